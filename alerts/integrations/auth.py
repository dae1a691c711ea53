"""Authentication of inbound integrations: ``Authorization: Bearer <integration token>``."""

from __future__ import annotations

import pghistory
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from alerts.models import AlertIntegration
from wedsync_ops.tenancy.auth import bearer_token, hash_token, set_token_lookup


class IntegrationCaller:
    """The caller of an integration request: a machine, not a person (``request.user``)."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    pk = None

    def __init__(self, integration: AlertIntegration):
        self.integration = integration

    def __str__(self):
        return f"integration:{self.integration.token_prefix}"


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate an enabled ``AlertIntegration`` of ``kind`` by its bearer token.

    The token's SHA-256 is presented to row-level security with
    ``set_token_lookup`` (policy ``token_lookup`` on ``alert_integrations``),
    so the lookup works without any tenant context and reads that one row.
    ``request.auth`` becomes the integration. Raises AuthenticationFailed
    (401) for an unknown, disabled or other-kind token; no header gives
    None, which DRF answers 401 as well (``authenticate_header``).
    Must run inside the request's transaction (TenantContextMiddleware).
    """

    kind: str = ""

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None:
            return None
        return self._lookup(raw)

    def _lookup(self, raw: str):
        token_hash = hash_token(raw)
        set_token_lookup(token_hash)
        try:
            integration = AlertIntegration.objects.filter(token_hash=token_hash, enabled=True, kind=self.kind).first()
        finally:
            set_token_lookup("")
        if integration is None:
            raise exceptions.AuthenticationFailed("invalid or disabled integration token")
        # The audit trail's context (audit/middleware.py): what this request writes was the integration's doing.
        pghistory.context(integration=f"{integration.kind}:{integration.name}", integration_id=str(integration.pk))
        return IntegrationCaller(integration), integration

    def authenticate_header(self, request):
        return f'Bearer realm="{self.kind or "integration"}"'


class AlertmanagerTokenAuthentication(IntegrationTokenAuthentication):
    """Integration tokens of kind ``alertmanager``."""

    kind = AlertIntegration.Kind.ALERTMANAGER


class GrafanaTokenAuthentication(IntegrationTokenAuthentication):
    """Integration tokens of kind ``grafana`` (Grafana contact point: webhook, Authorization header credentials)."""

    kind = AlertIntegration.Kind.GRAFANA


class WebhookTokenAuthentication(IntegrationTokenAuthentication):
    """Integration tokens of kind ``webhook`` (generic JSON webhook)."""

    kind = AlertIntegration.Kind.WEBHOOK


class PagerDutyTokenAuthentication(IntegrationTokenAuthentication):
    """Integration tokens of kind ``pagerduty``: the bearer token, or else the body's ``routing_key``.

    PagerDuty-style senders put their key in the body (``routing_key``) and
    send no Authorization header; such a request is authenticated by that
    key as the integration token. The body is decoded by
    ``wedsync_ops.validation.json_loads`` before any credential is looked up:
    a body it refuses (not JSON, nested deeper than 64 levels, NUL …)
    answers 400 naming the field; a JSON body without a string
    ``routing_key`` gives None (401).
    """

    kind = AlertIntegration.Kind.PAGERDUTY

    def authenticate(self, request):
        if bearer_token(request) is not None:
            return super().authenticate(request)
        from django.conf import settings
        from django.core.exceptions import RequestDataTooBig

        from wedsync_ops.validation import InputError, json_loads

        try:
            body = request.body
        except RequestDataTooBig:
            raise exceptions.ValidationError({"body": ["larger than the limit"]}) from None
        if len(body) > settings.INTEGRATION_MAX_BODY_BYTES:
            raise exceptions.ValidationError(
                {"body": [f"larger than the limit of {settings.INTEGRATION_MAX_BODY_BYTES} bytes"]}
            )
        try:
            data = json_loads(body)
        except InputError as exc:
            raise exceptions.ValidationError(exc.as_dict()) from None
        key = data.get("routing_key") if isinstance(data, dict) else None
        if not isinstance(key, str) or not key:
            return None
        return self._lookup(key)


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    """drf-spectacular: the integration bearer token, for the OpenAPI schema."""

    target_class = "alerts.integrations.auth.IntegrationTokenAuthentication"
    match_subclasses = True

    @property
    def name(self) -> str:
        """One scheme per kind (``alertmanagerIntegrationToken``…): a token of one kind is refused by the others."""
        return f"{self.target.kind}IntegrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An inbound integration token (`manage.py create_integration --kind <kind>`), "
            "sent as `Authorization: Bearer wsi_…` (Alertmanager: `http_config.authorization.credentials`).",
        }


class BearerIntegrationOrUserTokenScheme(OpenApiAuthenticationExtension):
    """drf-spectacular: the Alertmanager API v2's bearer token (an integration token or a person's API token)."""

    target_class = "alerts.alertmanager_api.BearerIntegrationOrUserToken"
    name = "alertmanagerApiBearer"
    priority = 1  # before DRF's token scheme, which matches every TokenAuthentication subclass

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration token (`manage.py create_integration`) or a person's API token "
            "(`manage.py drf_create_token`), as amtool and Grafana send it: `Authorization: Bearer …`.",
        }
