"""drf-spectacular descriptions of the portal's authentication classes (organization API keys, sessions)."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <key>`` (or ``X-Api-Key: <key>``) with a key from ``manage.py create_api_key``."""

    target_class = "wedsync_ops.tenancy.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organization API key (`manage.py create_api_key --org <slug>`), "
            "sent as `Authorization: Bearer wso_…` or `X-Api-Key: wso_…`.",
        }


class TenantSessionScheme(SessionScheme):
    """The portal's session cookie (``TenantSessionAuthentication``), as DRF's own session scheme."""

    target_class = "wedsync_ops.tenancy.auth.TenantSessionAuthentication"
    priority = 0
