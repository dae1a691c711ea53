"""People's API tokens (django-rest-knox): created, listed and revoked here only.

A token is ``wsu_`` + 64 hex characters, shown once at creation; the database keeps its SHA-512
digest and its first 15 characters (``token_key``, to tell tokens apart on the tokens page). Each
expires ``settings.REST_KNOX["TOKEN_TTL"]`` after creation (``API_TOKEN_TTL_DAYS``, 90 by default).
Requests send it as ``Authorization: Token <token>`` (or ``Bearer`` on the Alertmanager API v2).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from knox.models import AuthToken

MAX_EXPIRY_DAYS = 366


def user_token_create(*, user, expiry_days: int | None = None) -> tuple[AuthToken, str]:
    """A new token for ``user``; returns ``(row, token)``; the token is not stored and cannot be shown again.

    ``expiry_days``: 1 to 366 (default: ``REST_KNOX["TOKEN_TTL"]``). Raises ValidationError (``expiry_days``).
    """
    if expiry_days is None:
        return AuthToken.objects.create(user=user)
    if not isinstance(expiry_days, int) or not 1 <= expiry_days <= MAX_EXPIRY_DAYS:
        raise ValidationError({"expiry_days": f"must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}"})
    return AuthToken.objects.create(user=user, expiry=dt.timedelta(days=expiry_days))


def user_tokens(*, user) -> list[AuthToken]:
    """``user``'s tokens, newest first (expired ones included until knox cleans them up)."""
    return list(AuthToken.objects.filter(user=user).order_by("-created"))


def user_token_revoke(*, user, digest: str) -> bool:
    """Revoke (delete) one of ``user``'s tokens by its digest; returns whether one was revoked."""
    deleted, _ = AuthToken.objects.filter(user=user, digest=digest).delete()
    return bool(deleted)


def user_tokens_revoke_all(*, user) -> int:
    """Revoke every token of ``user``; returns how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
