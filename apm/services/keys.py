"""Organization API keys for ingest."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError

API_KEY_PREFIX = "wso_"

# --- API keys ---------------------------------------------------------------------


def api_key_create(*, organization, name: str):
    """Create an ingest API key for ``organization``; returns ``(ApiKey, raw_key)``.

    The raw key (``wso_`` + 43 url-safe characters, 256 bits) is returned
    once and never stored: the row holds its SHA-256 and its first 12
    characters (``prefix``) to recognise it. Raises ValidationError for an
    empty name or one longer than 100 characters. Needs a context that may
    write the organization's rows (service, staff, or its vendor context).
    """
    from wedsync_ops.tenancy.auth import hash_token
    from wedsync_ops.tenancy.models import ApiKey

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "must not be empty"})
    if len(name) > 100:
        raise ValidationError({"name": f"must be at most 100 characters (got {len(name)})"})
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(organization=organization, name=name, prefix=raw[:12], key_hash=hash_token(raw))
    return key, raw
