"""The fast path of business event ingest: decode and check a batch in one pass of msgspec (C), no dicts.

``POST /api/v1/business-events/`` bodies are decoded straight into typed structs whose constraints are
``business.services.events_validate``'s limits (event types, lengths, unknown fields refused, time zones
required, decimals); ``properties`` stays raw JSON (``msgspec.Raw``: stored as it came, cast to jsonb by
the move). What msgspec cannot express (the currency list, the time window, decimal places, nesting of
properties) is checked in one loop. Any batch that fails anywhere goes to ``events_validate`` on the
``json``-decoded body, which names every bad field of every event: the fast path decides only "valid",
never the error message, so both paths accept exactly the same batches. The approach of apm's metric
ingest (``apm.ingest_json``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from typing import Annotated, Literal

import msgspec
from django.conf import settings
from django.db import transaction

from wedsync_ops.validation import MAX_OFFSET, InputError, json_loads

from .services import (
    _EPOCH_MS_HINT,
    ACTOR_ID_MAX_LENGTH,
    EVENTS_MAX_AGE,
    EVENTS_MAX_FUTURE,
    PROPERTIES_MAX_BYTES,
    REVENUE_DECIMALS,
    REVENUE_MAX,
    BusinessEventsValidationError,
    events_copy,
    events_validate,
    iso_4217_codes,
)

_EventType = Literal[
    "booking_created", "payment_succeeded", "payment_failed", "rsvp_submitted", "gallery_viewed", "form_submitted"
]
_Actor = Annotated[str, msgspec.Meta(max_length=ACTOR_ID_MAX_LENGTH)]
_Currency = Annotated[str, msgspec.Meta(min_length=3, max_length=3)]
_Timestamp = float | Annotated[dt.datetime, msgspec.Meta(tz=True)]
# Nesting of properties: at most this many brackets in the raw JSON (hence at most this many levels).
_MAX_BRACKETS = 64


class _Event(msgspec.Struct, forbid_unknown_fields=True):
    event_type: _EventType
    timestamp: _Timestamp | None = None
    actor_id: _Actor | None = None
    properties: msgspec.Raw = msgspec.Raw(b"null")  # any JSON value, checked below (a Raw takes no union)
    revenue_impact: decimal.Decimal | None = None
    currency: _Currency | None = None


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    events: list[_Event]


_decoder = msgspec.json.Decoder(_Batch)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_fromtimestamp = dt.datetime.fromtimestamp
_UTC = dt.UTC
_NULL = b"null"


def _fast_rows(body: bytes, *, organization_id: uuid.UUID, now: dt.datetime) -> list[tuple] | None:
    """COPY tuples of a valid batch, or None when anything is off (the caller then validates slowly)."""
    # A NUL can only be written \u0000 in JSON, a lone surrogate \ud800-\udfff: the slow path names the field.
    if b"\\u0000" in body or _SURROGATE_ESCAPE.search(body):
        return None
    try:
        events = _decoder.decode(body).events
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if not events or len(events) > settings.BUSINESS_EVENTS_MAX_BATCH:
        return None
    codes = iso_4217_codes()
    oldest, newest = now - EVENTS_MAX_AGE, now + EVENTS_MAX_FUTURE
    oldest_s, newest_s = oldest.timestamp(), newest.timestamp()
    rows = []
    append = rows.append
    org = organization_id
    for e in events:
        raw = e.timestamp
        if raw is None:
            at = now
        elif type(raw) is float:
            if raw > _EPOCH_MS_HINT or not oldest_s <= raw <= newest_s:
                return None
            at = _fromtimestamp(raw, _UTC)
        else:
            offset = raw.utcoffset()
            if abs(offset) > MAX_OFFSET or not oldest <= raw <= newest:
                return None
            at = raw
        data = bytes(e.properties)
        if data == _NULL:
            text = "{}"
        elif (
            not data.startswith(b"{")
            or len(data) > PROPERTIES_MAX_BYTES
            or data.count(b"{") + data.count(b"[") > _MAX_BRACKETS
        ):
            return None
        else:
            text = data.decode()
        amount, currency = e.revenue_impact, e.currency
        if (amount is None) != (currency is None):
            return None
        if amount is not None:
            if (
                currency not in codes
                or not amount.is_finite()
                or abs(amount) >= REVENUE_MAX
                or -amount.as_tuple().exponent > REVENUE_DECIMALS
            ):
                return None
        append((org, e.event_type, e.actor_id or "", text, amount, currency or "", at))
    return rows


def events_ingest_json(*, organization_id: uuid.UUID, body: bytes, now: dt.datetime) -> int:
    """Validate a JSON event batch (the raw request body) and store it with one COPY; returns events stored.

    Same contract as ``business.services.events_ingest`` (which takes the decoded payload): nothing is
    written unless every event is valid. Raises BusinessEventsValidationError (``detail`` for a body that
    is not JSON or not a batch, ``errors`` for bad events). Needs a tenant context that may write the
    organization's rows.
    """
    rows = _fast_rows(body, organization_id=organization_id, now=now)
    if rows is None:
        try:  # wedsync_ops.validation: at most 64 levels, no NUL or lone surrogate anywhere
            payload = json_loads(body)
        except InputError as exc:
            where = "the body" if exc.field == "body" else exc.field
            raise BusinessEventsValidationError(detail=f"{where} {exc.reason}"[:300]) from exc
        rows = events_validate(organization_id=organization_id, payload=payload, now=now)
    with transaction.atomic():
        return events_copy(rows=rows)
