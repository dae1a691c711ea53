"""OTLP/HTTP metrics: decode an ``ExportMetricsServiceRequest`` and turn it into metric and histogram points.

Pure Python, no database. The wire format is the OpenTelemetry Protocol
(https://opentelemetry.io/docs/specs/otlp/#otlphttp), decoded with the
official bindings (``opentelemetry-proto``): binary protobuf
(``application/x-protobuf``) or its JSON mapping (``application/json``;
lowerCamelCase keys, 64-bit integers as strings or numbers, unknown
fields ignored as the spec requires), either optionally gzip-compressed
(``Content-Encoding: gzip``).

Mapping (``otlp_points``):

- the resource attribute ``service.name`` is the service;
- a data point's attributes become the point's tags (strings as they
  are; booleans ``true``/``false``; numbers in decimal; arrays and maps as
  JSON text);
- Gauge and Sum data points become metric points (``apm_metrics``): the
  value as sent (a cumulative Sum is stored as its running total, as the
  Prometheus text ingest stores a ``_total``);
- Histogram and ExponentialHistogram data points become histogram points
  (``apm_metric_histograms``) with count, sum, min, max and their buckets
  as explicit boundaries (``HistogramPoint``), so that aggregation can
  compute quantiles from the buckets;
- Summary data points and points flagged "no recorded value" are not
  stored: the first are rejected (counted in ``partial_success``), the
  second skipped (they carry no value by definition).

A point that breaks a limit of the portal (the lengths and tag limits of
``apm.services.metrics_validate``, the 90-day retention, a non-finite
value, more than ``MAX_BUCKETS`` buckets) is rejected alone; the others
are stored (OTLP partial success).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
import zlib
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from wedsync_ops.db import PG_EPOCH_UNIX_US, pg_timestamp_us_date

from .ingest_batch import PointBatch
from .validation import (
    METRIC_NAME_MAX_LENGTH,
    METRICS_MAX_FUTURE,
    METRICS_RETENTION,
    SERVICE_MAX_LENGTH,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    TAGS_MAX_COUNT,
    UNIT_MAX_LENGTH,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# Buckets one histogram point may have (an exponential histogram has at most 160 by default per sign).
MAX_BUCKETS = 400
# Decompressed bodies larger than this are refused (a gzip bomb guard), in bytes.
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
_CUMULATIVE = 2
_NO_RECORDED_VALUE = 1
_UTC = dt.UTC


class OtlpDecodeError(ValueError):
    """The body is not an ExportMetricsServiceRequest in the given encoding; ``str()`` says why."""


@dataclass
class HistogramPoint:
    """One histogram data point, ready for ``apm.histograms.histograms_copy``.

    ``bounds`` has ``len(counts) + 1`` ascending boundaries: ``counts[i]``
    observations lie in ``(bounds[i], bounds[i+1]]`` (explicit-bucket
    histograms have ``-inf`` and ``+inf`` at the ends). ``count``, ``sum``,
    ``counts`` are as sent (cumulative since ``start_at`` when
    ``temporality`` is ``cumulative``); ``sum`` is estimated from bucket
    midpoints when the sender left it out; ``min``/``max`` None when not
    sent. Values in ``unit``.
    """

    organization_id: uuid.UUID
    service: str
    metric_name: str
    unit: str
    tags_json: str
    recorded_at: dt.datetime
    start_at: dt.datetime | None
    temporality: str
    count: int
    sum: float
    min: float | None
    max: float | None
    bounds: list[float]
    counts: list[int]


@dataclass
class OtlpBatch(PointBatch):
    """A request's metric points and rejections (``PointBatch``), plus its histogram points."""

    histograms: list[HistogramPoint] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.points) + len(self.histograms)


def otlp_decode(body: bytes, *, content_type: str, content_encoding: str = "") -> ExportMetricsServiceRequest:
    """The request of an OTLP/HTTP body; raises OtlpDecodeError (bad gzip, bad protobuf or JSON, wrong type).

    ``content_type``: ``application/x-protobuf`` or ``application/json``;
    ``content_encoding``: ``""``/``identity`` or ``gzip``.
    """
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        try:
            body = _gunzip(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise OtlpDecodeError(f"the body is not valid gzip: {exc}") from exc
    elif encoding not in ("", "identity"):
        raise OtlpDecodeError(f"Content-Encoding {encoding!r} is not supported (send gzip or none)")
    request = ExportMetricsServiceRequest()
    if content_type == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise OtlpDecodeError(f"the body is not an ExportMetricsServiceRequest in protobuf: {exc}") from exc
    elif content_type == JSON:
        try:
            json_format.Parse(body, request, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, RecursionError) as exc:
            raise OtlpDecodeError(f"the body is not an ExportMetricsServiceRequest in JSON: {exc}"[:300]) from exc
    else:
        raise OtlpDecodeError(f"Content-Type {content_type!r} is not OTLP: send {PROTOBUF} or {JSON}")
    return request


def _gunzip(body: bytes) -> bytes:
    """Decompress with a ceiling of MAX_DECOMPRESSED_BYTES (raises OSError past it)."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = decompressor.decompress(body, MAX_DECOMPRESSED_BYTES)
    if decompressor.unconsumed_tail:
        raise OSError(f"the body decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes")
    if not decompressor.eof:
        raise EOFError("the gzip stream is truncated")
    return out


def otlp_response(*, rejected: int, message: str, content_type: str) -> bytes:
    """An ``ExportMetricsServiceResponse`` in the request's encoding; ``partial_success`` only when rejected > 0."""
    response = ExportMetricsServiceResponse()
    if rejected:
        response.partial_success.rejected_data_points = rejected
        response.partial_success.error_message = message
    if content_type == JSON:
        return json_format.MessageToJson(response, indent=None).encode()
    return response.SerializeToString()


def _attribute_text(value) -> str:
    """An OTLP AnyValue as tag text."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return repr(value.double_value)
    if kind is None:
        return ""
    return json.dumps(json_format.MessageToDict(value), separators=(",", ":"), sort_keys=True)


def _tags(attributes, cache: dict) -> tuple[str | None, str]:
    """``(reason, tags_json)`` of a data point's attributes; ``reason`` None when they are valid tags.

    ``cache`` maps a serialized attribute list to its result (the points of one batch repeat a few sets).
    """
    count = len(attributes)
    if not count:
        return None, "{}"
    # One attribute (the common case) keys by its bytes, several by a tuple of them: the two never collide.
    key = attributes[0].SerializeToString() if count == 1 else tuple([kv.SerializeToString() for kv in attributes])
    hit = cache.get(key)
    if hit is not None:
        return hit
    tags = {}
    reason = None
    if count > TAGS_MAX_COUNT:
        reason = f"at most {TAGS_MAX_COUNT} attributes per data point (got {count})"
    else:
        for kv in attributes:
            text = _attribute_text(kv.value)
            if not kv.key.strip() or len(kv.key) > TAG_KEY_MAX_LENGTH or "\x00" in kv.key:
                reason = f"attribute name {kv.key[:40]!r} must be 1 to {TAG_KEY_MAX_LENGTH} characters, no NUL"
                break
            if len(text) > TAG_VALUE_MAX_LENGTH or "\x00" in text:
                reason = f"attribute {kv.key[:40]!r} must be at most {TAG_VALUE_MAX_LENGTH} characters, no NUL"
                break
            tags[kv.key] = text
    result = (reason, "{}" if reason else json.dumps(tags, separators=(",", ":")))
    cache[key] = result
    return result


def _explicit_buckets(dp) -> tuple[list[float], list[int]] | str:
    """Bounds and counts of an explicit-bucket HistogramDataPoint, or the reason it is invalid."""
    counts = list(dp.bucket_counts)
    bounds = list(dp.explicit_bounds)
    if not counts:
        # No buckets: one bucket holding every observation.
        return [-math.inf, math.inf], [dp.count]
    if len(counts) != len(bounds) + 1:
        return f"bucket_counts must have one more entry than explicit_bounds ({len(counts)} and {len(bounds)})"
    ascending = all(b1 <= b2 for b1, b2 in zip(bounds, bounds[1:], strict=False))
    if not ascending or any(not math.isfinite(b) for b in bounds):
        return "explicit_bounds must be finite and ascending"
    return [-math.inf, *bounds, math.inf], counts


def _exponential_buckets(dp) -> tuple[list[float], list[int]] | str:
    """Bounds and counts of an ExponentialHistogramDataPoint as explicit intervals, or the reason it is invalid.

    OTLP data model: with base = 2^(2^-scale), positive bucket index i holds
    (base^i, base^(i+1)], negative bucket i holds [-base^(i+1), -base^i), the
    zero bucket [-zero_threshold, zero_threshold]. Gaps between them become
    empty intervals, so that the bounds stay one ascending list.
    """
    intervals: list[tuple[float, float, int]] = []
    try:
        base_exp = 2.0**-dp.scale
        negative, positive = dp.negative, dp.positive
        for k in reversed(range(len(negative.bucket_counts))):
            index = negative.offset + k
            intervals.append(
                (-(2.0 ** ((index + 1) * base_exp)), -(2.0 ** (index * base_exp)), negative.bucket_counts[k])
            )
        if dp.zero_count:
            threshold = abs(dp.zero_threshold)
            intervals.append((-threshold, threshold, dp.zero_count))
        for k, count in enumerate(positive.bucket_counts):
            index = positive.offset + k
            intervals.append((2.0 ** (index * base_exp), 2.0 ** ((index + 1) * base_exp), count))
    except OverflowError:
        return f"bucket boundaries overflow at scale {dp.scale}"
    if not intervals:
        return [-math.inf, math.inf], [0]
    bounds = [intervals[0][0]]
    counts: list[int] = []
    for lower, upper, count in intervals:
        if lower > bounds[-1]:
            bounds.append(lower)
            counts.append(0)
        bounds.append(max(upper, bounds[-1]))
        counts.append(count)
    if any(not math.isfinite(b) for b in bounds):
        return f"bucket boundaries overflow at scale {dp.scale}"
    return bounds, counts


def _estimated_sum(bounds: list[float], counts: list[int]) -> float:
    """Σ count × bucket midpoint (an open bucket counts at its finite bound): the sum when the sender sent none."""
    total = 0.0
    for i, count in enumerate(counts):
        if count:
            lower, upper = bounds[i], bounds[i + 1]
            if math.isinf(lower):
                lower = upper if not math.isinf(upper) else 0.0
            if math.isinf(upper):
                upper = lower
            total += count * (lower + upper) / 2
    return total


def otlp_points(request: ExportMetricsServiceRequest, *, organization_id: uuid.UUID, now: dt.datetime) -> OtlpBatch:
    """The points of a decoded request for ``organization_id``, and what was rejected and why (see module doc)."""
    batch = OtlpBatch()
    org = organization_id
    oldest_ns = int((now - METRICS_RETENTION).timestamp() * 1e9)
    newest_ns = int((now + METRICS_MAX_FUTURE).timestamp() * 1e9)
    tag_cache: dict = {}
    isfinite = math.isfinite
    lo_us = hi_us = None
    for resource_metrics in request.resource_metrics:
        service = None
        for kv in resource_metrics.resource.attributes:
            if kv.key == "service.name":
                service = kv.value.string_value
        if not service or not service.strip():
            batch.reject(_resource_point_count(resource_metrics), "the resource has no service.name attribute")
            continue
        if len(service) > SERVICE_MAX_LENGTH or "\x00" in service:
            batch.reject(
                _resource_point_count(resource_metrics),
                f"service.name must be at most {SERVICE_MAX_LENGTH} characters, no NUL",
            )
            continue
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                name, unit = metric.name, metric.unit
                kind = metric.WhichOneof("data")
                if not name.strip() or len(name) > METRIC_NAME_MAX_LENGTH or "\x00" in name:
                    batch.reject(_point_count(metric), f"metric name must be 1 to {METRIC_NAME_MAX_LENGTH} characters")
                    continue
                if len(unit) > UNIT_MAX_LENGTH or "\x00" in unit:
                    batch.reject(
                        _point_count(metric), f"unit of {name[:60]} must be at most {UNIT_MAX_LENGTH} characters"
                    )
                    continue
                if kind in ("gauge", "sum"):
                    for dp in getattr(metric, kind).data_points:
                        if dp.flags & _NO_RECORDED_VALUE:
                            continue
                        # The value is one of as_double / as_int; the other reads as 0.
                        value = dp.as_double or float(dp.as_int)
                        ns = dp.time_unix_nano
                        if not oldest_ns <= ns <= newest_ns:
                            batch.reject(1, _time_reason(ns, oldest_ns))
                            continue
                        if not isfinite(value):
                            batch.reject(1, f"{name[:60]}: the value must be a finite number")
                            continue
                        attributes = dp.attributes
                        if attributes:
                            reason, tags = _tags(attributes, tag_cache)
                            if reason:
                                batch.reject(1, f"{name[:60]}: {reason}")
                                continue
                        else:
                            tags = "{}"
                        # PostgreSQL keeps µs: the nanoseconds are truncated.
                        us = ns // 1000 - PG_EPOCH_UNIX_US
                        if lo_us is None or us < lo_us:
                            lo_us = us
                        if hi_us is None or us > hi_us:
                            hi_us = us
                        batch.points.append((org, service, name, value, unit, tags, us))
                elif kind in ("histogram", "exponential_histogram"):
                    data = getattr(metric, kind)
                    temporality = "cumulative" if data.aggregation_temporality == _CUMULATIVE else "delta"
                    for dp in data.data_points:
                        if dp.flags & _NO_RECORDED_VALUE:
                            continue
                        point = _histogram_point(
                            dp,
                            kind,
                            batch,
                            org=organization_id,
                            service=service,
                            name=name,
                            unit=unit,
                            temporality=temporality,
                            tag_cache=tag_cache,
                            window=(oldest_ns, newest_ns),
                        )
                        if point is not None:
                            batch.histograms.append(point)
                elif kind == "summary":
                    batch.reject(
                        len(metric.summary.data_points),
                        f"{name[:60]}: Summary points are not stored (send a Histogram)",
                    )
    if lo_us is not None:
        first, last = pg_timestamp_us_date(lo_us), pg_timestamp_us_date(hi_us)
        batch.days = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    return batch


def _time_reason(ns: int, oldest_ns: int) -> str:
    if ns == 0:
        return "time_unix_nano is required"
    if ns < oldest_ns:
        return f"time_unix_nano is older than the {METRICS_RETENTION.days}-day retention"
    return f"time_unix_nano is more than {int(METRICS_MAX_FUTURE.total_seconds() // 60)} minutes in the future"


def _histogram_point(dp, kind, batch: OtlpBatch, *, org, service, name, unit, temporality, tag_cache, window):
    """A HistogramPoint of one data point, or None (rejected, reason noted on ``batch``)."""
    oldest_ns, newest_ns = window
    ns = dp.time_unix_nano
    if not oldest_ns <= ns <= newest_ns:
        batch.reject(1, _time_reason(ns, oldest_ns))
        return None
    buckets = _explicit_buckets(dp) if kind == "histogram" else _exponential_buckets(dp)
    if isinstance(buckets, str):
        batch.reject(1, f"{name[:60]}: {buckets}")
        return None
    bounds, counts = buckets
    if len(counts) > MAX_BUCKETS:
        batch.reject(1, f"{name[:60]}: at most {MAX_BUCKETS} buckets per point (got {len(counts)})")
        return None
    if sum(counts) != dp.count:
        batch.reject(1, f"{name[:60]}: count {dp.count} is not the sum of the bucket counts ({sum(counts)})")
        return None
    reason, tags = _tags(dp.attributes, tag_cache)
    if reason:
        batch.reject(1, f"{name[:60]}: {reason}")
        return None
    total = dp.sum if dp.HasField("sum") else _estimated_sum(bounds, counts)
    low = dp.min if dp.HasField("min") else None
    high = dp.max if dp.HasField("max") else None
    if not all(v is None or math.isfinite(v) for v in (total, low, high)):
        batch.reject(1, f"{name[:60]}: sum, min and max must be finite")
        return None
    start = dp.start_time_unix_nano
    return HistogramPoint(
        organization_id=org,
        service=service,
        metric_name=name,
        unit=unit,
        tags_json=tags,
        recorded_at=dt.datetime.fromtimestamp(ns / 1e9, _UTC),
        start_at=dt.datetime.fromtimestamp(start / 1e9, _UTC) if start else None,
        temporality=temporality,
        count=dp.count,
        sum=total,
        min=low,
        max=high,
        bounds=bounds,
        counts=counts,
    )


def _resource_point_count(resource_metrics) -> int:
    """Data points of every metric of a ResourceMetrics (counted only when the whole resource is rejected)."""
    return sum(_point_count(m) for s in resource_metrics.scope_metrics for m in s.metrics)


def _point_count(metric) -> int:
    kind = metric.WhichOneof("data")
    return len(getattr(metric, kind).data_points) if kind else 0
