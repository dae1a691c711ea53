"""Secrets encrypted at rest with ``cryptography``'s MultiFernet (AES-128-CBC + HMAC-SHA256, Fernet spec).

One set of keys for every secret the portal keeps (APM provider credentials, notification channel
configurations): ``settings.FIELD_ENCRYPTION_KEYS``, newest first. The first encrypts, every one
decrypts, ``rotate_token`` re-encrypts under the first; ``manage.py reencrypt_credentials`` rotates
every stored secret after a key is prepended. Empty (local use only: production refuses to start
without keys, ``REQUIRE_SECRET_KEY``): one key derived from ``SECRET_KEY``.

``EncryptedJSONField`` stores a JSON object as a Fernet token in a text column and gives it back
decrypted; a token no configured key opens reads as an empty ``Undecryptable`` dict that keeps the
token, so saving the row never destroys a secret it could not read.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class CredentialsError(ValueError):
    """A secret could not be decrypted (unknown key or tampered token); says nothing about the content."""


def _keys() -> list[bytes]:
    keys = [k.strip().encode() for k in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if k.strip()]
    if not keys:
        digest = hashlib.sha256(("apm-credentials:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest)]
    return keys


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(k) for k in _keys()])
    except ValueError as exc:
        raise CredentialsError("FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key") from exc


def encrypt_json(data: dict) -> str:
    """A Fernet token (ASCII text) of ``data`` as JSON, under the newest key; ``""`` for an empty dict."""
    if not data:
        return ""
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    """The dict of a token from ``encrypt_json`` (``{}`` for ``""``); raises CredentialsError."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsError("the stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


def rotate_token(token: str) -> str:
    """The same secret re-encrypted under the newest key (``""`` stays ``""``); raises CredentialsError."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsError("the stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


def mask(value) -> str:
    """``"•••• 1234"``: the last 4 characters of a secret of 12 or more, else ``"••••"``; ``""`` for none."""
    text = str(value or "")
    if not text:
        return ""
    return f"•••• {text[-4:]}" if len(text) >= 12 else "••••"


class Undecryptable(dict):
    """An encrypted value no configured key opens: empty, and saved back as the ``token`` it was."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token


class EncryptedJSONField(models.TextField):
    """A JSON object kept in a text column as a Fernet token (``encrypt_json``); Python sees the dict.

    Lookups on its content are impossible by design. ``Undecryptable`` rows (keys missing) read as
    ``{}`` and keep their token when saved.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        try:
            return decrypt_json(value)
        except CredentialsError:
            return Undecryptable(value)

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        try:
            return decrypt_json(value)
        except CredentialsError:
            return Undecryptable(value)

    def get_prep_value(self, value):
        if isinstance(value, Undecryptable):
            return value.token
        if value in (None, ""):
            return ""
        if not isinstance(value, dict):
            raise TypeError(f"{self.name} must be a dict, got {type(value).__name__}")
        return encrypt_json(value)

    def value_to_string(self, obj):  # serialization (dumpdata) keeps the token, never the plaintext
        return self.get_prep_value(self.value_from_object(obj))
