"""Credentials encrypted at rest with ``cryptography``'s MultiFernet (AES-128-CBC + HMAC-SHA256).

Keys come from ``apm.conf.FIELD_ENCRYPTION_KEYS`` (newest first): the first
encrypts, every one decrypts, ``rotate`` re-encrypts under the first.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from . import conf


class CredentialsError(ValueError):
    """Credentials could not be decrypted (unknown key or tampered token); says nothing about the content."""


def _keys() -> list[bytes]:
    keys = [k.strip().encode() for k in conf.FIELD_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        digest = hashlib.sha256(("apm-credentials:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest)]
    return keys


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(k) for k in _keys()])
    except ValueError as exc:
        raise CredentialsError("FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key") from exc


def encrypt_credentials(credentials: dict) -> str:
    """A Fernet token (ASCII text) of the credentials as JSON, under the newest key; ``""`` for no credentials."""
    if not credentials:
        return ""
    return _fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt_credentials(token: str) -> dict:
    """The credentials of a token from ``encrypt_credentials`` (``{}`` for ``""``); raises CredentialsError."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsError("the stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


def rotate_token(token: str) -> str:
    """The same credentials re-encrypted under the newest key (``""`` stays ``""``); raises CredentialsError."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsError("the stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc
