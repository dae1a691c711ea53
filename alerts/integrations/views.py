"""API views of the alerts app: inbound integration webhooks (Alertmanager, Grafana, PagerDuty, generic JSON)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.integrations.alertmanager import PayloadError
from alerts.integrations.auth import (
    AlertmanagerTokenAuthentication,
    GrafanaTokenAuthentication,
    PagerDutyTokenAuthentication,
    WebhookTokenAuthentication,
)
from alerts.integrations.backlog import BacklogFull, integration_backlog_pending, integration_payload_park
from alerts.integrations.kinds import KINDS
from alerts.integrations.ratelimit import integration_rate_check
from wedsync_ops.api import JSONParser
from wedsync_ops.tenancy.context import service_context


def read_limited_body(request, *, max_bytes: int) -> bytes:
    """The raw request body, at most ``max_bytes`` long.

    Raises DRF ValidationError (400, key ``body``) when ``Content-Length``
    or the body read exceeds the limit, so an oversized post is refused
    before it is parsed.
    """
    too_big = serializers.ValidationError({"body": [f"larger than the limit of {max_bytes} bytes"]})
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise serializers.ValidationError({"body": ["invalid Content-Length header"]}) from None
    if declared > max_bytes:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > max_bytes:
        raise too_big
    return body


class IntegrationView(APIView):
    """Shared steps of the inbound endpoints, in order: authenticate the integration token (401), read at most
    ``settings.INTEGRATION_MAX_BODY_BYTES`` bytes (400 ``body``), validate the whole payload (400 naming the
    field), count its alerts against the integration's rate limit, then either store it in one transaction
    under a service context (``success_status``) or, over the limit or behind parked payloads, park it for a
    worker (202, ``alerts.integrations.backlog``; 503 with ``Retry-After`` when the backlog is full).

    Subclasses set ``authentication_classes`` and ``kind`` (a key of ``alerts.integrations.kinds.KINDS``).
    """

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    throttle_classes = []
    success_status = 200
    kind = ""

    def post(self, request):
        integration = request.auth
        kind = KINDS[self.kind]
        body = read_limited_body(request, max_bytes=settings.INTEGRATION_MAX_BODY_BYTES)
        try:
            parsed = kind.parse(body, integration)
        except PayloadError as exc:
            raise serializers.ValidationError(exc.as_dict()) from None
        now = timezone.now()
        decision = integration_rate_check(integration=integration, alerts=kind.count(parsed))
        if decision.allowed and not integration_backlog_pending(integration=integration):
            with service_context(), transaction.atomic():
                result = kind.receive(integration, parsed, now)
            return Response(result, status=self.success_status)
        try:
            integration_payload_park(integration=integration, body=body, alerts=kind.count(parsed), received_at=now)
        except BacklogFull as exc:
            response = Response({"detail": str(exc)}, status=503)
            response["Retry-After"] = str(exc.retry_after_s)
            return response
        return Response(kind.parked(parsed), status=202)


_RESULT = inline_serializer(
    "IntegrationWebhookResult",
    {
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
    },
)


class GrafanaWebhookView(IntegrationView):
    """``POST /api/v1/integrations/grafana/``: Grafana unified alerting webhook (``"version": "1"``).

    Auth: ``Authorization: Bearer <token of a grafana integration>``. Answers 200 ``{"received", "created",
    "resolved"}``; idempotent like the Alertmanager endpoint.
    """

    authentication_classes = [GrafanaTokenAuthentication]
    kind = "grafana"

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: _RESULT})
    def post(self, request):
        return super().post(request)


class PagerDutyEventsView(IntegrationView):
    """``POST /api/v1/integrations/pagerduty/`` (also ``…/pagerduty/v2/enqueue``): PagerDuty Events API v2.

    Auth: ``Authorization: Bearer <token of a pagerduty integration>``, or that token as the body's
    ``routing_key``. ``trigger``/``acknowledge``/``resolve`` by ``dedup_key``. Answers 202
    ``{"status": "success", "message", "dedup_key", "changed"}`` as PagerDuty does.
    """

    authentication_classes = [PagerDutyTokenAuthentication]
    success_status = 202
    kind = "pagerduty"

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            202: inline_serializer(
                "PagerDutyEventResult",
                {
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                    "dedup_key": serializers.CharField(),
                    "changed": serializers.BooleanField(),
                },
            )
        },
    )
    def post(self, request):
        return super().post(request)


class GenericWebhookView(IntegrationView):
    """``POST /api/v1/integrations/webhook/``: any JSON, read through the integration's field mapping.

    Auth: ``Authorization: Bearer <token of a webhook integration>``. The mapping is the integration's
    ``config`` (``alerts.integrations.webhook``). Answers 200 ``{"received", "created", "resolved"}``.
    """

    authentication_classes = [WebhookTokenAuthentication]
    kind = "webhook"

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: _RESULT})
    def post(self, request):
        return super().post(request)


class AlertmanagerWebhookView(IntegrationView):
    """``POST /api/v1/integrations/alertmanager/``: Alertmanager webhook (payload version "4").

    Auth: ``Authorization: Bearer <integration token>`` of an enabled
    ``alertmanager`` integration (``manage.py create_integration``), else 401.
    Body: at most ``settings.INTEGRATION_MAX_BODY_BYTES`` bytes. A bad payload
    answers 400 ``{"<field>": ["<reason>"]}`` (e.g. ``alerts[0].startsAt``)
    and stores nothing; a good one is stored in one transaction under a
    service context and answers 200 ``{"received": n, "created": x, "resolved": y}``
    (over the rate limit: parked, 202 with ``"queued": n``; see ``IntegrationView``).
    Idempotent: the same payload again creates and resolves nothing.
    """

    authentication_classes = [AlertmanagerTokenAuthentication]
    kind = "alertmanager"

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: inline_serializer(
                "AlertmanagerWebhookResult",
                {
                    "received": serializers.IntegerField(),
                    "created": serializers.IntegerField(),
                    "resolved": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request):
        return super().post(request)
