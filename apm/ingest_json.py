"""The fast path of JSON metric ingest: decode and validate a batch in one pass of msgspec (C), no dicts.

``POST /api/v1/metrics/`` bodies are decoded straight into typed structs
whose constraints are the limits of ``apm.services.metrics_validate``
(lengths, types, unknown fields refused, time zones required); the few
checks msgspec cannot express (blank strings, NUL characters, finite
values, the retention window) run in one loop over the points. Any batch
that fails anywhere goes to ``metrics_validate`` on the ``json``-decoded
body, which lists every bad field of every point: the fast path decides
only "valid", never the error message, so both paths accept exactly the
same batches.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from typing import Annotated

import msgspec
from django.conf import settings

from wedsync_ops.db import PG_EPOCH_UNIX_US, pg_timestamp_us, pg_timestamp_us_date
from wedsync_ops.validation import InputError, json_loads

from .services import MetricsValidationError, metrics_copy, metrics_copy_tuples, metrics_validate
from .validation import (
    EPOCH_MS_HINT,
    METRIC_NAME_MAX_LENGTH,
    METRICS_MAX_FUTURE,
    METRICS_RETENTION,
    SERVICE_MAX_LENGTH,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    TAGS_MAX_COUNT,
    UNIT_MAX_LENGTH,
)

_Service = Annotated[str, msgspec.Meta(min_length=1, max_length=SERVICE_MAX_LENGTH)]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=METRIC_NAME_MAX_LENGTH)]
_Unit = Annotated[str, msgspec.Meta(max_length=UNIT_MAX_LENGTH)]
_TagKey = Annotated[str, msgspec.Meta(min_length=1, max_length=TAG_KEY_MAX_LENGTH)]
_TagValue = Annotated[str, msgspec.Meta(max_length=TAG_VALUE_MAX_LENGTH)]
_Tags = Annotated[dict[_TagKey, _TagValue], msgspec.Meta(max_length=TAGS_MAX_COUNT)]
_Timestamp = float | Annotated[dt.datetime, msgspec.Meta(tz=True)]


class _Point(msgspec.Struct, forbid_unknown_fields=True):
    service: _Service
    name: _Name
    value: float
    unit: _Unit | None = None
    timestamp: _Timestamp | None = None
    tags: _Tags | None = None


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    metrics: list[_Point]


_decoder = msgspec.json.Decoder(_Batch | list[_Point])
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_encode = msgspec.json.encode


def _fast_rows(body: bytes, *, organization_id: uuid.UUID, now: dt.datetime) -> tuple[list[tuple], set] | None:
    """``(COPY tuples, UTC days)`` of a valid batch, or None when anything is off (the caller then validates slowly).

    Each tuple's ``recorded_at`` is µs since 2000-01-01 UTC (``wedsync_ops.db.pg_timestamp_us``): an epoch
    timestamp in seconds is rounded to the nearest µs exactly as ``datetime.fromtimestamp`` rounds it.
    """
    # A NUL can only be written \u0000 in JSON, a surrogate \ud800-\udfff: let the slow path name the field.
    if b"\\u0000" in body or _SURROGATE_ESCAPE.search(body):
        return None
    try:
        decoded = _decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    points = decoded.metrics if isinstance(decoded, _Batch) else decoded
    if not points or len(points) > settings.METRICS_MAX_BATCH:
        return None
    org = organization_id
    oldest, newest = now - METRICS_RETENTION, now + METRICS_MAX_FUTURE
    oldest_s, newest_s = oldest.timestamp(), newest.timestamp()
    isfinite, modf = math.isfinite, math.modf
    now_us = pg_timestamp_us(now)
    rows = []
    append = rows.append
    lo = hi = None
    for p in points:
        value = p.value
        if not isfinite(value) or not p.service.strip() or not p.name.strip():
            return None
        raw = p.timestamp
        if raw is None:
            at = now_us
        elif type(raw) is float:
            if raw > EPOCH_MS_HINT or not oldest_s <= raw <= newest_s:
                return None
            frac, whole = modf(raw)  # as datetime.fromtimestamp splits it (Modules/_datetimemodule.c)
            at = int(whole) * 1_000_000 + round(frac * 1e6) - PG_EPOCH_UNIX_US
        else:
            if not oldest <= raw <= newest:
                return None
            at = pg_timestamp_us(raw)
        tags = p.tags
        if tags:
            for key in tags:
                if not key.strip():
                    return None
            text = _encode(tags).decode()
        else:
            text = "{}"
        if lo is None or at < lo:
            lo = at
        if hi is None or at > hi:
            hi = at
        append((org, p.service, p.name, value, p.unit or "", text, at))
    first, last = pg_timestamp_us_date(lo), pg_timestamp_us_date(hi)
    # Every UTC day from the oldest point to the newest (at most the 90-day retention).
    days = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    return rows, days


def metrics_ingest_json(*, organization_id: uuid.UUID, body: bytes, now: dt.datetime) -> int:
    """Validate a JSON metric batch (raw request body) and store it with one COPY; returns points stored.

    Same contract as ``apm.services.metrics_ingest`` (which takes the
    decoded payload): the batch shape of ``metrics_validate``; nothing is
    written unless every point is valid. Raises MetricsValidationError
    (``detail`` for a body that is not JSON or not a batch, ``errors`` for
    bad points). Needs a tenant context that may write the organization's rows.
    """
    fast = _fast_rows(body, organization_id=organization_id, now=now)
    if fast is not None:
        rows, days = fast
        return metrics_copy_tuples(rows=rows, days=days)
    try:  # wedsync_ops.validation: at most 64 levels, no NUL or lone surrogate anywhere; NaN reported per point
        payload = json_loads(body, allow_nan=True)
    except InputError as exc:
        where = "the body" if exc.field == "body" else exc.field
        raise MetricsValidationError(detail=f"{where} {exc.reason}"[:300]) from exc
    return metrics_copy(rows=metrics_validate(organization_id=organization_id, payload=payload, now=now))
