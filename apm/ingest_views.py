"""Ingest in the standard wire formats: OTLP/HTTP metrics and Prometheus remote-write 1.0.

Both authenticate with an organization API key (``Authorization: Bearer
wso_…``, as ``POST /api/v1/metrics/``) whose organization receives every
point; both store with the same COPY as the JSON ingest
(``apm.services.metrics_copy_tuples``), wedding context included.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from google.protobuf import json_format
from google.rpc import status_pb2
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from wedsync_ops.tenancy.auth import ApiKeyAuthentication

from . import schema as _schema  # noqa: F401  (registers the API key scheme)
from .histograms import histograms_copy
from .otlp import JSON, PROTOBUF, OtlpDecodeError, otlp_decode, otlp_points, otlp_response
from .remote_write import SUPPORTED_VERSION, RemoteWriteError, remote_write_decode, remote_write_points
from .services import metrics_copy_tuples

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

    @extend_schema(operation_id="otlp_metrics_export", summary="OTLP/HTTP metrics export", tags=["ingest"],
                   request={PROTOBUF: bytes, JSON: dict},
                   responses={200: OpenApiResponse(description="ExportMetricsServiceResponse (partial_success when "
                                                               "points were rejected)"),
                              400: OpenApiResponse(description="google.rpc.Status: the body did not decode"),
                              401: OpenApiResponse(description="No valid API key.")})
    def post(self, request):
        content_type = _media_type(request)
        if content_type not in (PROTOBUF, JSON):
            return _otlp_error(415, f"Content-Type must be {PROTOBUF} or {JSON}", PROTOBUF)
        body = _body(request)
        if body is None:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return _otlp_error(400, f"the body is larger than {limit} bytes", content_type)
        try:
            decoded = otlp_decode(body, content_type=content_type,
                                  content_encoding=request.META.get("HTTP_CONTENT_ENCODING", ""))
        except OtlpDecodeError as exc:
            return _otlp_error(400, str(exc), content_type)
        batch = otlp_points(decoded, organization_id=request.auth.organization_id, now=timezone.now())
        limit = settings.METRICS_MAX_BATCH
        if batch.total + batch.rejected > limit:
            return _otlp_error(400, f"the request has {batch.total + batch.rejected} data points; "
                                    f"at most {limit} are accepted: export smaller batches", content_type)
        metrics_copy_tuples(rows=batch.points, days=batch.days)
        histograms_copy(points=batch.histograms)
        message = "; ".join(batch.reasons)
        return HttpResponse(otlp_response(rejected=batch.rejected, message=message, content_type=content_type),
                            status=200, content_type=content_type)


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

    @extend_schema(operation_id="prometheus_remote_write", summary="Prometheus remote-write 1.0", tags=["ingest"],
                   request={PROTOBUF: bytes},
                   responses={204: OpenApiResponse(description="Stored."),
                              400: OpenApiResponse(description="Not a remote-write 1.0 request (text reason)."),
                              401: OpenApiResponse(description="No valid API key.")})
    def post(self, request):
        from wedsync_ops.tenancy.models import Organization

        version = request.META.get("HTTP_X_PROMETHEUS_REMOTE_WRITE_VERSION", "")
        if not version.startswith("0.1."):
            return _text(400, f"X-Prometheus-Remote-Write-Version must be {SUPPORTED_VERSION} (remote-write 1.0), "
                              f"got {version[:40]!r}")
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
            return _text(400, f"the request has {len(batch.points)} samples; at most {limit} are accepted "
                              f"(queue_config.max_samples_per_send)")
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
