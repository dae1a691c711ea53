"""API views of the alerts app: inbound integration webhooks (Alertmanager, Grafana, PagerDuty, generic JSON)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.integrations.alertmanager import PayloadError, alertmanager_receive, parse_payload
from alerts.integrations.auth import (
    AlertmanagerTokenAuthentication,
    GrafanaTokenAuthentication,
    PagerDutyTokenAuthentication,
    WebhookTokenAuthentication,
)
from alerts.integrations.grafana import grafana_receive, parse_grafana_payload
from alerts.integrations.pagerduty import pagerduty_receive, parse_pagerduty_event
from alerts.integrations.ratelimit import integration_rate_check
from alerts.integrations.webhook import mapping_for, parse_webhook_payload, webhook_receive
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
    """Shared steps of the inbound endpoints, in order: authenticate the integration token (401), count the
    request against the integration's rate limit (429 with ``Retry-After``), read at most
    ``settings.INTEGRATION_MAX_BODY_BYTES`` bytes (400 ``body``), validate the whole payload (400 naming the
    field), then store it in one transaction under a service context.

    Subclasses set ``authentication_classes`` and implement ``parse(body)`` and ``receive(integration,
    parsed, now) -> dict``; ``success_status`` is the HTTP status of a stored payload.
    """

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    throttle_classes = []
    success_status = 200

    def parse(self, body: bytes, integration):  # pragma: no cover - abstract
        raise NotImplementedError

    def receive(self, integration, parsed, now) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def post(self, request):
        integration = request.auth
        decision = integration_rate_check(integration=integration)
        if not decision.allowed:
            raise exceptions.Throttled(
                wait=decision.retry_after_s,
                detail=f"rate limit of {decision.limit} requests per minute exceeded for this integration",
            )
        body = read_limited_body(request, max_bytes=settings.INTEGRATION_MAX_BODY_BYTES)
        try:
            parsed = self.parse(body, integration)
        except PayloadError as exc:
            raise serializers.ValidationError(exc.as_dict()) from None
        with service_context(), transaction.atomic():
            result = self.receive(integration, parsed, timezone.now())
        return Response(result, status=self.success_status)


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

    def parse(self, body, integration):
        return parse_grafana_payload(body)

    def receive(self, integration, parsed, now):
        return grafana_receive(integration=integration, payload=parsed, now=now)

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

    def parse(self, body, integration):
        return parse_pagerduty_event(body)

    def receive(self, integration, parsed, now):
        return pagerduty_receive(integration=integration, event=parsed, now=now)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={202: inline_serializer("PagerDutyEventResult", {
            "status": serializers.CharField(), "message": serializers.CharField(),
            "dedup_key": serializers.CharField(), "changed": serializers.BooleanField(),
        })},
    )
    def post(self, request):
        return super().post(request)


class GenericWebhookView(IntegrationView):
    """``POST /api/v1/integrations/webhook/``: any JSON, read through the integration's field mapping.

    Auth: ``Authorization: Bearer <token of a webhook integration>``. The mapping is the integration's
    ``config`` (``alerts.integrations.webhook``). Answers 200 ``{"received", "created", "resolved"}``.
    """

    authentication_classes = [WebhookTokenAuthentication]

    def parse(self, body, integration):
        return parse_webhook_payload(body, mapping=mapping_for(integration))

    def receive(self, integration, parsed, now):
        return webhook_receive(integration=integration, alerts=parsed, now=now)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: _RESULT})
    def post(self, request):
        return super().post(request)


class AlertmanagerWebhookView(APIView):
    """``POST /api/v1/integrations/alertmanager/``: Alertmanager webhook (payload version "4").

    Auth: ``Authorization: Bearer <integration token>`` of an enabled
    ``alertmanager`` integration (``manage.py create_integration``), else 401.
    Body: at most ``settings.INTEGRATION_MAX_BODY_BYTES`` bytes. A bad payload
    answers 400 ``{"<field>": ["<reason>"]}`` (e.g. ``alerts[0].startsAt``)
    and stores nothing; a good one is stored in one transaction under a
    service context and answers 200 ``{"received": n, "created": x, "resolved": y}``.
    Idempotent: the same payload again creates and resolves nothing.
    """

    authentication_classes = [AlertmanagerTokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    throttle_classes = []

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
        decision = integration_rate_check(integration=request.auth)
        if not decision.allowed:
            raise exceptions.Throttled(
                wait=decision.retry_after_s,
                detail=f"rate limit of {decision.limit} requests per minute exceeded for this integration",
            )
        body = read_limited_body(request, max_bytes=settings.INTEGRATION_MAX_BODY_BYTES)
        try:
            payload = parse_payload(body)
        except PayloadError as exc:
            raise serializers.ValidationError(exc.as_dict()) from None
        with service_context():
            result = alertmanager_receive(integration=request.auth, payload=payload, now=timezone.now())
        return Response(result)
