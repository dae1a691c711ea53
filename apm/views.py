"""APM API: ingest of metrics (JSON or Prometheus text), error reports and web vitals."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wedsync_ops.api import JSONParser
from wedsync_ops.tenancy.auth import ApiKeyAuthentication
from wedsync_ops.validation import InputError, json_loads

from . import schema as _schema  # noqa: F401  (registers the API key scheme)
from .errors import ErrorsValidationError
from .ingest_json import metrics_ingest_json
from .serializers import MetricBatchSerializer, MetricsAcceptedSerializer, MetricsRefusedSerializer
from .services import MetricsValidationError, errors_ingest, metrics_copy, metrics_validate


class _BadBody(Exception):
    def __init__(self, detail: str):
        self.detail = detail


def _read_body(request) -> bytes:
    """The request body (non-empty bytes); raises _BadBody when it is empty or over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    try:
        body = request.body
    except RequestDataTooBig as exc:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise _BadBody(f"the body is larger than {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)") from exc
    if not body:
        raise _BadBody("the body is empty: send a JSON metric batch")
    return body


def _read_json(request):
    """The request body decoded as JSON (``wedsync_ops.validation.json_loads``: at most 64 levels, no NUL or
    lone surrogate anywhere; NaN is reported per point); raises _BadBody with the reason."""
    body = _read_body(request)
    try:
        return json_loads(body, allow_nan=True)
    except InputError as exc:
        where = "the body" if exc.field == "body" else exc.field
        raise _BadBody(f"{where} {exc.reason}"[:300]) from exc


class MetricIngestView(APIView):
    """``POST /api/v1/metrics/``: store a batch of metric points for the API key's organization.

    The organization is the key's, never the payload's. The batch is
    validated whole before anything is stored (``apm.services.metrics_validate``).
    Answers 202 ``{"accepted": n}``; 400 ``{"detail": str}`` for a body that
    is not JSON, not a batch, empty or larger than METRICS_MAX_BATCH points
    or DATA_UPLOAD_MAX_MEMORY_SIZE bytes; 400 ``{"errors": [{"index",
    "field", "reason"}], "error_count"}`` for bad points; 401 without a key
    or with an unknown or revoked one.

    ``Content-Type: text/plain`` (``version=0.0.4``): the body is the
    Prometheus text exposition format (``apm.prometheus_text``); the
    service is ``?service=…`` or each sample's ``service``/``job`` label.
    Answers 202 ``{"accepted": n, "skipped": m}`` (``skipped``: NaN/±Inf
    samples) or 400 with errors that name the ``line`` (1-based) instead
    of the ``index``.
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
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type in ("text/plain", "application/openmetrics-text"):
            return _ingest_prometheus_text(request)
        try:
            body = _read_body(request)
        except _BadBody as exc:
            return Response({"detail": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
        try:
            accepted = metrics_ingest_json(organization_id=request.auth.organization_id, body=body, now=timezone.now())
        except MetricsValidationError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response({"accepted": accepted}, status=status.HTTP_202_ACCEPTED)


def _ingest_prometheus_text(request):
    """The Prometheus text branch of ``MetricIngestView.post`` (see there)."""
    from .prometheus_text import to_points

    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": f"the body is larger than {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)"}, status=400)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Response({"detail": "the body is not UTF-8 text"}, status=status.HTTP_400_BAD_REQUEST)
    service = request.query_params.get("service") or None
    points, lines, errors, skipped = to_points(text, service=service)
    if errors:
        return Response({"errors": errors[:100], "error_count": len(errors)}, status=status.HTTP_400_BAD_REQUEST)
    if not points:
        return Response({"detail": "the exposition has no samples to store"}, status=status.HTTP_400_BAD_REQUEST)
    try:
        rows = metrics_validate(organization_id=request.auth.organization_id, payload=points, now=timezone.now())
    except MetricsValidationError as exc:
        if exc.detail is not None:
            return Response({"detail": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
        by_line = [{"line": lines[e["index"]], "field": e["field"], "reason": e["reason"]} for e in exc.errors]
        return Response({"errors": by_line[:100], "error_count": len(by_line)}, status=status.HTTP_400_BAD_REQUEST)
    return Response({"accepted": metrics_copy(rows=rows), "skipped": skipped}, status=status.HTTP_202_ACCEPTED)


class ErrorIngestView(APIView):
    """``POST /api/v1/errors/``: error reports of the API key's organization.

    Body: one report, ``{"errors": [report, …]}`` or a list (see
    ``apm.errors.errors_validate`` for the fields). Answers 202
    ``{"accepted", "suppressed", "patterns", "regressions", "incidents"}``;
    400 ``{"detail"}`` or ``{"errors": [{"index", "field", "reason"}],
    "error_count"}`` (nothing stored); 401 without a valid key.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(operation_id="errors_ingest", summary="Report errors", tags=["ingest"], request=None,
                   responses={202: dict, 400: dict, 401: OpenApiResponse(description="No valid API key.")})
    def post(self, request):
        try:
            payload = _read_json(request)
        except _BadBody as exc:
            return Response({"detail": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = errors_ingest(organization_id=request.auth.organization_id, payload=payload, now=timezone.now())
        except ErrorsValidationError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict(), status=status.HTTP_202_ACCEPTED)


# web-vitals metric names (https://github.com/GoogleChrome/web-vitals) and their units.
WEB_VITALS_UNITS = {"LCP": "ms", "FCP": "ms", "FID": "ms", "INP": "ms", "TTFB": "ms", "CLS": ""}
WEB_VITALS_RATINGS = ("good", "needs-improvement", "poor")
WEB_VITALS_SERVICE = "web-vitals"
_WEB_VITALS_FIELDS = frozenset(
    {"name", "value", "rating", "delta", "id", "navigationType", "entries", "page", "organization", "timestamp",
     "device"}
)
# The sender's device class (core_web_vitals is per page and device class; issue 18 §2).
WEB_VITALS_DEVICES = ("mobile", "tablet", "desktop")


def web_vitals_points(payload, *, organization_slug: str) -> tuple[list[dict], list[dict]]:
    """web-vitals metric objects → metric points; returns ``(points, errors)``.

    One object (as the library's ``onLCP(metric => …)`` callback gets it,
    plus the sender's ``page`` and ``organization``) or a list of them.
    Each becomes the point ``web_vitals.<name>`` of service ``web-vitals``
    with ``value`` (ms, CLS unitless) and tags ``rating``, ``page``,
    ``navigation_type`` and ``device`` (the sender's device class: mobile,
    tablet or desktop). ``organization``, when present, must be the API
    key's organization slug. ``entries`` and ``delta`` are not stored.
    Errors: ``[{"index", "field", "reason"}]``.
    """
    objects = payload if isinstance(payload, list) else [payload]
    points, errors = [], []
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            errors.append({"index": index, "field": None, "reason": "must be a JSON object"})
            continue
        for key in sorted(obj.keys() - _WEB_VITALS_FIELDS):
            errors.append({"index": index, "field": key[:120], "reason": "unknown field"})
        name = obj.get("name")
        if name not in WEB_VITALS_UNITS:
            errors.append({"index": index, "field": "name", "reason": f"must be one of {', '.join(WEB_VITALS_UNITS)}"})
        rating = obj.get("rating")
        if rating is not None and rating not in WEB_VITALS_RATINGS:
            reason = f"must be one of {', '.join(WEB_VITALS_RATINGS)}"
            errors.append({"index": index, "field": "rating", "reason": reason})
        device = obj.get("device")
        if device is not None and device not in WEB_VITALS_DEVICES:
            errors.append({"index": index, "field": "device",
                           "reason": f"must be one of {', '.join(WEB_VITALS_DEVICES)}"})
        org = obj.get("organization")
        if org is not None and org != organization_slug:
            errors.append({"index": index, "field": "organization",
                           "reason": "must be the API key's organization (or left out)"})
        tags = {}
        for field_name, tag in (("rating", "rating"), ("page", "page"), ("navigationType", "navigation_type"),
                                ("device", "device")):
            value = obj.get(field_name)
            if value is not None:
                if not isinstance(value, str):
                    errors.append({"index": index, "field": field_name, "reason": "must be a string"})
                else:
                    tags[tag] = value
        point = {"service": WEB_VITALS_SERVICE, "name": f"web_vitals.{name}", "value": obj.get("value"),
                 "unit": WEB_VITALS_UNITS.get(name, ""), "tags": tags}
        if obj.get("timestamp") is not None:
            point["timestamp"] = obj["timestamp"]
        points.append(point)
    return points, errors


class WebVitalsIngestView(APIView):
    """``POST /api/v1/web-vitals/``: web-vitals metric objects (see ``web_vitals_points``) as metrics.

    Answers 202 ``{"accepted": n}``; 400 ``{"detail"}`` or ``{"errors":
    [{"index", "field", "reason"}], "error_count"}`` (nothing stored); 401
    without a valid key.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(operation_id="web_vitals_ingest", summary="Report web vitals", tags=["ingest"], request=None,
                   responses={202: MetricsAcceptedSerializer, 400: dict,
                              401: OpenApiResponse(description="No valid API key.")})
    def post(self, request):
        from wedsync_ops.tenancy.models import Organization

        try:
            payload = _read_json(request)
        except _BadBody as exc:
            return Response({"detail": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
        org_id = request.auth.organization_id
        slug = Organization.objects.filter(pk=org_id).values_list("slug", flat=True).first()
        points, errors = web_vitals_points(payload, organization_slug=slug)
        if not errors:
            try:
                rows = metrics_validate(organization_id=org_id, payload=points, now=timezone.now())
            except MetricsValidationError as exc:
                if exc.detail is not None:
                    return Response({"detail": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
                errors = [dict(e, field={"name": "value"}.get(e["field"], e["field"])) for e in exc.errors]
        if errors:
            return Response({"errors": errors[:100], "error_count": len(errors)}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"accepted": metrics_copy(rows=rows)}, status=status.HTTP_202_ACCEPTED)
