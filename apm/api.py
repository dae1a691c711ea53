"""APM API (DRF): ingest of metrics (JSON or Prometheus text), error reports and web vitals, and ingest in
the standard wire formats: OTLP/HTTP metrics and Prometheus remote-write 1.0.

Every endpoint authenticates with an organization API key (``Authorization: Bearer wso_…``) whose
organization receives every point; the wire formats store with the same COPY as the JSON ingest
(``apm.services.metrics_copy_tuples``), wedding context included.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from google.protobuf import json_format
from google.rpc import status_pb2
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wedsync_ops.api import JSONParser
from wedsync_ops.tenancy.auth import ApiKeyAuthentication
from wedsync_ops.validation import InputError, json_loads

from . import schema as _schema  # noqa: F401  (registers the API key scheme)  # noqa: F401  (registers the API key scheme)
from .errors import ErrorsValidationError
from .histograms import histograms_copy
from .ingest_json import metrics_ingest_json
from .otlp import JSON, PROTOBUF, OtlpDecodeError, otlp_decode, otlp_points, otlp_response
from .remote_write import SUPPORTED_VERSION, RemoteWriteError, remote_write_decode, remote_write_points
from .serializers import MetricBatchSerializer, MetricsAcceptedSerializer, MetricsRefusedSerializer
from .services import MetricsValidationError, errors_ingest, metrics_copy, metrics_copy_tuples, metrics_validate


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
    # Writes apm_metrics only, which the audit trail does not track (audit/middleware.py).
    audit_context = False
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
                        {
                            "service": "checkout-api",
                            "name": "http.request.duration",
                            "value": 182.5,
                            "unit": "ms",
                            "timestamp": "2026-06-13T12:00:00Z",
                            "tags": {"route": "/pay"},
                        },
                        {"service": "checkout-api", "name": "http.requests", "value": 1, "timestamp": 1781352000},
                    ]
                },
            ),
            OpenApiExample(
                "Bad point",
                response_only=True,
                status_codes=["400"],
                value={
                    "errors": [{"index": 1, "field": "value", "reason": "must be a finite number"}],
                    "error_count": 1,
                },
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

    @extend_schema(
        operation_id="errors_ingest",
        summary="Report errors",
        tags=["ingest"],
        request=None,
        responses={202: dict, 400: dict, 401: OpenApiResponse(description="No valid API key.")},
    )
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
    {
        "name",
        "value",
        "rating",
        "delta",
        "id",
        "navigationType",
        "entries",
        "page",
        "organization",
        "timestamp",
        "device",
    }
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
            errors.append(
                {"index": index, "field": "device", "reason": f"must be one of {', '.join(WEB_VITALS_DEVICES)}"}
            )
        org = obj.get("organization")
        if org is not None and org != organization_slug:
            errors.append(
                {"index": index, "field": "organization", "reason": "must be the API key's organization (or left out)"}
            )
        tags = {}
        for field_name, tag in (
            ("rating", "rating"),
            ("page", "page"),
            ("navigationType", "navigation_type"),
            ("device", "device"),
        ):
            value = obj.get(field_name)
            if value is not None:
                if not isinstance(value, str):
                    errors.append({"index": index, "field": field_name, "reason": "must be a string"})
                else:
                    tags[tag] = value
        point = {
            "service": WEB_VITALS_SERVICE,
            "name": f"web_vitals.{name}",
            "value": obj.get("value"),
            "unit": WEB_VITALS_UNITS.get(name, ""),
            "tags": tags,
        }
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

    @extend_schema(
        operation_id="web_vitals_ingest",
        summary="Report web vitals",
        tags=["ingest"],
        request=None,
        responses={202: MetricsAcceptedSerializer, 400: dict, 401: OpenApiResponse(description="No valid API key.")},
    )
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


# google.rpc.Code values (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto).
_INVALID_ARGUMENT = 3


def _body(request) -> bytes | None:
    """The raw body, or None when it is over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    try:
        return request.body
    except RequestDataTooBig:
        return None


def _media_type(request) -> str:
    return request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()


def _otlp_error(status: int, message: str, content_type: str) -> HttpResponse:
    """An OTLP error response: a ``google.rpc.Status`` in the request's encoding (OTLP/HTTP "Failures")."""
    body = status_pb2.Status(code=_INVALID_ARGUMENT, message=message)
    if content_type == JSON:
        return HttpResponse(json_format.MessageToJson(body, indent=None), status=status, content_type=JSON)
    return HttpResponse(body.SerializeToString(), status=status, content_type=PROTOBUF)


class OtlpMetricsView(APIView):
    """``POST /v1/metrics`` and ``/api/v1/otlp/v1/metrics``: OTLP/HTTP ``ExportMetricsServiceRequest``.

    Body: protobuf (``Content-Type: application/x-protobuf``) or JSON
    (``application/json``), optionally ``Content-Encoding: gzip``; at most
    ``METRICS_MAX_BATCH`` data points. Mapping and limits: ``apm.otlp``.
    Answers, in the request's encoding (OTLP/HTTP specification):
    200 ``ExportMetricsServiceResponse`` — empty when every point was
    stored, else ``partial_success`` with ``rejected_data_points`` and an
    ``error_message`` giving the reasons (the other points are stored);
    400 ``google.rpc.Status`` for a body that does not decode or is too
    large (nothing stored; the client must not retry); 415 for another
    Content-Type; 401 without a valid API key.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    # Writes apm_metrics and apm_metric_histograms only, untracked by the audit trail (audit/middleware.py).
    audit_context = False

    @extend_schema(
        operation_id="otlp_metrics_export",
        summary="OTLP/HTTP metrics export",
        tags=["ingest"],
        request={PROTOBUF: bytes, JSON: dict},
        responses={
            200: OpenApiResponse(
                description="ExportMetricsServiceResponse (partial_success when points were rejected)"
            ),
            400: OpenApiResponse(description="google.rpc.Status: the body did not decode"),
            401: OpenApiResponse(description="No valid API key."),
        },
    )
    def post(self, request):
        content_type = _media_type(request)
        if content_type not in (PROTOBUF, JSON):
            return _otlp_error(415, f"Content-Type must be {PROTOBUF} or {JSON}", PROTOBUF)
        body = _body(request)
        if body is None:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return _otlp_error(400, f"the body is larger than {limit} bytes", content_type)
        try:
            decoded = otlp_decode(
                body, content_type=content_type, content_encoding=request.META.get("HTTP_CONTENT_ENCODING", "")
            )
        except OtlpDecodeError as exc:
            return _otlp_error(400, str(exc), content_type)
        batch = otlp_points(decoded, organization_id=request.auth.organization_id, now=timezone.now())
        limit = settings.METRICS_MAX_BATCH
        if batch.total + batch.rejected > limit:
            return _otlp_error(
                400,
                f"the request has {batch.total + batch.rejected} data points; "
                f"at most {limit} are accepted: export smaller batches",
                content_type,
            )
        metrics_copy_tuples(rows=batch.points, days=batch.days)
        histograms_copy(points=batch.histograms)
        message = "; ".join(batch.reasons)
        return HttpResponse(
            otlp_response(rejected=batch.rejected, message=message, content_type=content_type),
            status=200,
            content_type=content_type,
        )


class OtlpMetricsDefaultPathView(OtlpMetricsView):
    """``POST /v1/metrics``, OTLP/HTTP's default path: ``OtlpMetricsView`` (documented once, under /api/v1/otlp/)."""

    @extend_schema(exclude=True)
    def post(self, request):
        return super().post(request)


class RemoteWriteView(APIView):
    """``POST /api/v1/prometheus/write``: Prometheus remote-write 1.0 (snappy-compressed protobuf WriteRequest).

    Headers checked: ``Content-Type: application/x-protobuf``,
    ``Content-Encoding: snappy`` and ``X-Prometheus-Remote-Write-Version:
    0.1.0``. Mapping: ``apm.remote_write``. Answers 204 when the valid
    samples are stored (NaN samples skipped; samples that break a limit
    are dropped and counted in ``X-Wedsync-Rejected-Samples``, with the
    reasons in ``X-Wedsync-Rejected-Reasons``: remote-write 1.0 has no
    partial success, and a 4xx would make Prometheus drop the valid samples
    too); 400 with a text reason for a body that does not decode, a wrong
    header, or a request whose every sample was rejected (not retried by
    Prometheus); 401 without a valid API key.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    # Writes apm_metrics only, untracked by the audit trail (audit/middleware.py).
    audit_context = False

    @extend_schema(
        operation_id="prometheus_remote_write",
        summary="Prometheus remote-write 1.0",
        tags=["ingest"],
        request={PROTOBUF: bytes},
        responses={
            204: OpenApiResponse(description="Stored."),
            400: OpenApiResponse(description="Not a remote-write 1.0 request (text reason)."),
            401: OpenApiResponse(description="No valid API key."),
        },
    )
    def post(self, request):
        from wedsync_ops.tenancy.models import Organization

        version = request.META.get("HTTP_X_PROMETHEUS_REMOTE_WRITE_VERSION", "")
        if not version.startswith("0.1."):
            return _text(
                400,
                f"X-Prometheus-Remote-Write-Version must be {SUPPORTED_VERSION} (remote-write 1.0), "
                f"got {version[:40]!r}",
            )
        if _media_type(request) != PROTOBUF:
            return _text(400, f"Content-Type must be {PROTOBUF}")
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding != "snappy":
            return _text(400, f"Content-Encoding must be snappy, got {encoding[:40]!r}")
        body = _body(request)
        if body is None:
            return _text(400, f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
        try:
            decoded = remote_write_decode(body)
        except RemoteWriteError as exc:
            return _text(400, str(exc))
        org_id = request.auth.organization_id
        slug = Organization.objects.filter(pk=org_id).values_list("slug", flat=True).first()
        batch = remote_write_points(decoded, organization_id=org_id, organization_slug=slug, now=timezone.now())
        limit = settings.METRICS_MAX_BATCH
        if len(batch.points) > limit:
            return _text(
                400,
                f"the request has {len(batch.points)} samples; at most {limit} are accepted "
                f"(queue_config.max_samples_per_send)",
            )
        if batch.rejected and not batch.points:
            return _text(400, "every sample was rejected: " + "; ".join(batch.reasons))
        metrics_copy_tuples(rows=batch.points, days=batch.days)
        response = HttpResponse(status=204)
        if batch.rejected:
            response["X-Wedsync-Rejected-Samples"] = str(batch.rejected)
            reasons = "; ".join(batch.reasons)[:1000]
            response["X-Wedsync-Rejected-Reasons"] = "".join(c if c.isprintable() else " " for c in reasons)
        return response


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
