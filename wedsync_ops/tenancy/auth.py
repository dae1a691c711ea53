"""DRF authentication classes that set the tenant context of the request's transaction.

- ``TenantTokenAuthentication``: people, ``Authorization: Token <token>``: django-rest-knox tokens,
  stored as SHA-512 digests with an expiry (``manage.py drf_create_token``, ``/accounts/tokens/``).
- ``TenantBearerTokenAuthentication``: the same tokens as ``Authorization: Bearer <token>`` (what
  most HTTP clients and Swagger UI send); only tokens with the people's prefix (``wsu_``), so API
  keys and integration tokens, also sent as Bearer, are never mistaken for them.
- ``TenantSessionAuthentication``: people in the browser.
- ``ApiKeyAuthentication``: machines ingesting for one organization,
  ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``; the context
  becomes that organization's vendor context.
"""

import datetime as dt
import hashlib

import pghistory
from django.db import connection
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import authentication, exceptions

from .context import ROLE_VENDOR, TenantContext, apply_user_context, set_tenant_context

# How fresh api_keys.last_used_at is kept (it is written at most this often).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    """SHA-256 hex digest of a secret token; only this is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def bearer_token(request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def set_token_lookup(token_hash: str) -> None:
    """Let this transaction read the key/integration row whose hash is ``token_hash``.

    The RLS policies on ``api_keys`` and ``alert_integrations`` show a row
    to a caller that presents its hash (``app.token_hash``), and to nobody
    else without a staff or service context.
    """
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('app.token_hash', %s, true)", [token_hash])


class TenantTokenAuthentication(KnoxTokenAuthentication):
    """A person's knox token (``Authorization: Token <token>``, hashed at rest, expiring); then their tenant context.

    ``authenticate_credentials(token)`` takes the token as bytes or str; raises AuthenticationFailed (401)
    for an unknown, expired or inactive user's token.
    """

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key.encode() if isinstance(key, str) else key)
        apply_user_context(user)
        # The audit trail's context (audit/middleware.py) names the token's person.
        pghistory.context(user=user.pk, username=user.get_username(), token=token.token_key)
        return user, token


class TenantBearerTokenAuthentication(TenantTokenAuthentication):
    """A person's knox token sent as ``Authorization: Bearer wsu_…``; None (next class) for any other bearer.

    Raises AuthenticationFailed (401) for an unknown or expired ``wsu_`` token.
    """

    def authenticate(self, request):
        from knox.settings import knox_settings

        raw = bearer_token(request)
        if raw is None or not raw.startswith(knox_settings.TOKEN_PREFIX):
            return None
        return self.authenticate_credentials(raw.encode())

    def authenticate_header(self, request):
        return "Bearer"


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """Session auth (the middleware has already set the context)."""


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Organization API keys for ingest; sets the vendor context of the key's organization.

    Raises AuthenticationFailed (401) for an unknown or revoked key.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_token(request) or request.META.get("HTTP_X_API_KEY")
        if not raw:
            return None
        from .models import ApiKey

        set_token_lookup(hash_token(raw))
        key = ApiKey.objects.filter(key_hash=hash_token(raw), revoked_at__isnull=True).first()
        set_token_lookup("")
        if key is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        set_tenant_context(TenantContext(role=ROLE_VENDOR, org_id=key.organization_id))
        pghistory.context(api_key=f"{key.name} ({key.prefix}…)", api_key_id=str(key.pk))
        now = timezone.now()
        # At most one write a minute per key: concurrent ingests must not queue
        # behind each other's row lock on api_keys until their transactions commit.
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return (ApiKeyUser(key), key)

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyUser:
    """The caller of an API-key request: an organization, not a person."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, key):
        self.api_key = key
        self.organization_id = key.organization_id
        self.pk = None

    def __str__(self):
        return f"api-key:{self.api_key.prefix}"


from . import schema as _schema  # noqa: E402,F401  (registers the OpenAPI security schemes above)
