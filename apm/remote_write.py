"""Prometheus remote-write 1.0: decode a snappy-compressed ``prometheus.WriteRequest`` into metric points.

Pure Python, no database. Specification:
https://prometheus.io/docs/specs/remote_write_spec/ (version 1.0): the body
is a protobuf ``WriteRequest`` compressed with snappy's block format
(``Content-Encoding: snappy``), sent with ``Content-Type:
application/x-protobuf`` and ``X-Prometheus-Remote-Write-Version: 0.1.0``.

The messages are those of Prometheus' ``prompb/remote.proto`` and
``prompb/types.proto`` (field numbers as there); they are declared here
with protobuf's own descriptor API instead of generated code, and decoded
by the protobuf runtime (upb). Fields this ingest does not store (exemplars,
native histograms, metadata) are simply not declared: protobuf skips them.

Mapping (``remote_write_points``): ``__name__`` is the metric; the service
is the ``service`` label, else ``job``; ``organization``, when present, must
be the API key's organization slug (the key decides the tenant); the other
labels are tags; the unit follows Prometheus' naming conventions
(``apm.prometheus_text.unit_of``). NaN samples (Prometheus' staleness
markers among them) carry no value and are skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from wedsync_ops.db import PG_EPOCH_UNIX_US, pg_timestamp_us_date

from .ingest_batch import PointBatch
from .prometheus_text import unit_of
from .validation import (
    METRIC_NAME_MAX_LENGTH,
    METRICS_MAX_FUTURE,
    METRICS_RETENTION,
    SERVICE_MAX_LENGTH,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    TAGS_MAX_COUNT,
)

SUPPORTED_VERSION = "0.1.0"
# Decompressed bodies larger than this are refused, in bytes.
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024


def _write_request_class():
    """The ``prometheus.WriteRequest`` message class (prompb: WriteRequest{1: TimeSeries}, TimeSeries{1: Label,
    2: Sample}, Label{1: name, 2: value}, Sample{1: double value, 2: int64 timestamp ms})."""
    f = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="wedsync_prompb_remote.proto", package="prometheus", syntax="proto3"
    )

    def message(name, *fields):
        msg = proto.message_type.add(name=name)
        for number, field_name, kind, label, type_name in fields:
            msg.field.add(name=field_name, number=number, type=kind, label=label, type_name=type_name)

    message(
        "Label", (1, "name", f.TYPE_STRING, f.LABEL_OPTIONAL, None), (2, "value", f.TYPE_STRING, f.LABEL_OPTIONAL, None)
    )
    message(
        "Sample",
        (1, "value", f.TYPE_DOUBLE, f.LABEL_OPTIONAL, None),
        (2, "timestamp", f.TYPE_INT64, f.LABEL_OPTIONAL, None),
    )
    message(
        "TimeSeries",
        (1, "labels", f.TYPE_MESSAGE, f.LABEL_REPEATED, ".prometheus.Label"),
        (2, "samples", f.TYPE_MESSAGE, f.LABEL_REPEATED, ".prometheus.Sample"),
    )
    message("WriteRequest", (1, "timeseries", f.TYPE_MESSAGE, f.LABEL_REPEATED, ".prometheus.TimeSeries"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("prometheus.WriteRequest"))


WriteRequest = _write_request_class()


class RemoteWriteError(ValueError):
    """The body is not a snappy-compressed WriteRequest; ``str()`` says why."""


@dataclass
class RemoteWriteBatch(PointBatch):
    """A request's metric points and rejections (``PointBatch``), plus the NaN samples skipped."""

    skipped: int = 0


def remote_write_decode(body: bytes):
    """The ``WriteRequest`` of a snappy-compressed body; raises RemoteWriteError."""
    try:
        if not body:
            raise RemoteWriteError("the body is empty: send a snappy-compressed WriteRequest")
        if _snappy_length(body) > MAX_DECOMPRESSED_BYTES:
            raise RemoteWriteError(f"the body decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes")
        raw = bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise RemoteWriteError(f"the body is not snappy-compressed (block format): {exc}") from exc
    request = WriteRequest()
    try:
        request.ParseFromString(raw)
    except DecodeError as exc:
        raise RemoteWriteError(f"the body is not a prometheus.WriteRequest: {exc}") from exc
    return request


def _snappy_length(body: bytes) -> int:
    """The uncompressed length that a snappy block announces (its leading varint)."""
    length = shift = 0
    for byte in body[:5]:
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return length
        shift += 7
    raise RemoteWriteError("the body is not snappy-compressed (bad length header)")


def remote_write_points(
    request, *, organization_id: uuid.UUID, organization_slug: str, now: dt.datetime
) -> RemoteWriteBatch:
    """The points of a decoded WriteRequest for ``organization_id`` (see the module doc for the mapping)."""
    batch = RemoteWriteBatch()
    org = organization_id
    oldest_ms = int((now - METRICS_RETENTION).timestamp() * 1000)
    newest_ms = int((now + METRICS_MAX_FUTURE).timestamp() * 1000)
    isnan = math.isnan
    lo = hi = None
    for series in request.timeseries:
        labels = {label.name: label.value for label in series.labels}
        samples = series.samples
        name = labels.pop("__name__", "")
        reason = None
        if not name or len(name) > METRIC_NAME_MAX_LENGTH:
            reason = f"a series needs a __name__ of 1 to {METRIC_NAME_MAX_LENGTH} characters"
        organization = labels.pop("organization", None)
        if organization is not None and organization != organization_slug:
            reason = "the organization label names another organization than the API key's"
        service = labels.pop("service", None) or labels.pop("job", None)
        if not reason and (not service or len(service) > SERVICE_MAX_LENGTH):
            reason = f"{name[:60]}: a series needs a service or job label of 1 to {SERVICE_MAX_LENGTH} characters"
        if not reason and len(labels) > TAGS_MAX_COUNT:
            reason = f"{name[:60]}: at most {TAGS_MAX_COUNT} labels besides __name__, service/job, organization"
        if not reason and any(len(k) > TAG_KEY_MAX_LENGTH or len(v) > TAG_VALUE_MAX_LENGTH for k, v in labels.items()):
            reason = f"{name[:60]}: label names at most {TAG_KEY_MAX_LENGTH}, values {TAG_VALUE_MAX_LENGTH} characters"
        if not reason and any("\x00" in text for text in (name, service, *labels, *labels.values())):
            reason = f"{name[:60]}: labels must not contain NUL characters"
        if reason:
            batch.reject(len(samples), reason)
            continue
        tags = json.dumps(labels, separators=(",", ":")) if labels else "{}"
        unit = unit_of(name)
        for sample in samples:
            value, ms = sample.value, sample.timestamp
            if isnan(value):
                batch.skipped += 1
                continue
            if math.isinf(value):
                batch.reject(1, f"{name[:60]}: ±Inf cannot be stored")
                continue
            if not oldest_ms <= ms <= newest_ms:
                batch.reject(
                    1,
                    f"sample timestamps must lie within the {METRICS_RETENTION.days}-day retention and "
                    f"at most {int(METRICS_MAX_FUTURE.total_seconds() // 60)} minutes ahead",
                )
                continue
            if lo is None or ms < lo:
                lo = ms
            if hi is None or ms > hi:
                hi = ms
            batch.points.append((org, service, name, value, unit, tags, ms * 1000 - PG_EPOCH_UNIX_US))
    if lo is not None:
        first = pg_timestamp_us_date(lo * 1000 - PG_EPOCH_UNIX_US)
        last = pg_timestamp_us_date(hi * 1000 - PG_EPOCH_UNIX_US)
        batch.days = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    return batch
