"""drf-spectacular: the OpenAPI security schemes of people's tokens and the portal's session."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class UserTokenScheme(OpenApiAuthenticationExtension):
    """A person's API token (django-rest-knox): ``Authorization: Token wsu_…``."""

    target_class = "wedsync_ops.tenancy.auth.TenantTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A person's API token (`manage.py drf_create_token`, /accounts/tokens/), sent as "
            "`Authorization: Token wsu_…`; it expires (API_TOKEN_TTL_DAYS).",
        }


class UserBearerScheme(OpenApiAuthenticationExtension):
    """The same token as ``Authorization: Bearer wsu_…`` (Swagger UI's "Authorize" sends it this way)."""

    target_class = "wedsync_ops.tenancy.auth.TenantBearerTokenAuthentication"
    name = "userBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A person's API token sent as `Authorization: Bearer wsu_…`.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    """The portal's session cookie (a logged-in browser)."""

    target_class = "wedsync_ops.tenancy.auth.TenantSessionAuthentication"
    name = "portalSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
