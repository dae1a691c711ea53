"""APM API: metric ingest."""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wedsync_ops.tenancy.auth import ApiKeyAuthentication

from . import schema as _schema  # noqa: F401  (registers the API key scheme)
from .serializers import MetricBatchSerializer, MetricsAcceptedSerializer, MetricsRefusedSerializer
from .services import MetricsValidationError, metrics_ingest


class _BadBody(Exception):
    def __init__(self, detail: str):
        self.detail = detail


def _read_json(request):
    """The request body decoded as JSON; raises _BadBody with the reason."""
    try:
        body = request.body
    except RequestDataTooBig as exc:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise _BadBody(f"the body is larger than {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)") from exc
    if not body:
        raise _BadBody("the body is empty: send a JSON metric batch")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _BadBody(f"the body is not valid JSON: {exc}"[:300]) from exc


class MetricIngestView(APIView):
    """``POST /api/v1/metrics/``: store a batch of metric points for the API key's organization.

    The organization is the key's, never the payload's. The batch is
    validated whole before anything is stored (``apm.services.metrics_validate``).
    Answers 202 ``{"accepted": n}``; 400 ``{"detail": str}`` for a body that
    is not JSON, not a batch, empty or larger than METRICS_MAX_BATCH points
    or DATA_UPLOAD_MAX_MEMORY_SIZE bytes; 400 ``{"errors": [{"index",
    "field", "reason"}], "error_count"}`` for bad points; 401 without a key
    or with an unknown or revoked one.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    # Documentation only: the body is decoded by _read_json, so a JSON body
    # is accepted whatever its Content-Type says.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="metrics_ingest",
        summary="Ingest a batch of metric points",
        tags=["ingest"],
        request=MetricBatchSerializer,
        responses={
            202: MetricsAcceptedSerializer,
            400: OpenApiResponse(MetricsRefusedSerializer, description="Nothing was stored."),
            401: OpenApiResponse(description="No API key, or an unknown or revoked one."),
        },
        examples=[
            OpenApiExample(
                "Two points",
                request_only=True,
                value={
                    "metrics": [
                        {"service": "checkout-api", "name": "http.request.duration", "value": 182.5, "unit": "ms",
                         "timestamp": "2026-06-13T12:00:00Z", "tags": {"route": "/pay"}},
                        {"service": "checkout-api", "name": "http.requests", "value": 1, "timestamp": 1781352000},
                    ]
                },
            ),
            OpenApiExample(
                "Bad point",
                response_only=True,
                status_codes=["400"],
                value={"errors": [{"index": 1, "field": "value", "reason": "must be a finite number"}],
                       "error_count": 1},
            ),
        ],
    )
    def post(self, request):
        try:
            payload = _read_json(request)
        except _BadBody as exc:
            return Response({"detail": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
        try:
            accepted = metrics_ingest(
                organization_id=request.auth.organization_id, payload=payload, now=timezone.now()
            )
        except MetricsValidationError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response({"accepted": accepted}, status=status.HTTP_202_ACCEPTED)
