"""API views of the alerts app: inbound integration webhooks."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.integrations.alertmanager import PayloadError, alertmanager_receive, parse_payload
from alerts.integrations.auth import AlertmanagerTokenAuthentication
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
        body = read_limited_body(request, max_bytes=settings.INTEGRATION_MAX_BODY_BYTES)
        try:
            payload = parse_payload(body)
        except PayloadError as exc:
            raise serializers.ValidationError(exc.as_dict()) from None
        with service_context():
            result = alertmanager_receive(integration=request.auth, payload=payload, now=timezone.now())
        return Response(result)
