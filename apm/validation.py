"""Validation helpers of apm's ingest, shared by metric, histogram, error and dashboard input.

Each helper returns the reason a value is refused (a sentence for the 400 answer's field) or None;
the limits are the columns' sizes (``apm/sql/tables/apm_metrics.v1.sql``) and the retention.
"""

from __future__ import annotations

import datetime as dt
import math

# Raw points are kept this long (docs/design/sql-contract.md: platform retention, metrics 90 days);
# ingest refuses older timestamps.
METRICS_RETENTION = dt.timedelta(days=90)
# Clock skew a sender may have: timestamps at most this far in the future.
METRICS_MAX_FUTURE = dt.timedelta(minutes=5)
# Column sizes of apm_metrics (apm/sql/tables/apm_metrics.v1.sql), in characters.
SERVICE_MAX_LENGTH = 100
METRIC_NAME_MAX_LENGTH = 200
UNIT_MAX_LENGTH = 20
# Tags: at most this many per point, keys and values at most these lengths.
TAGS_MAX_COUNT = 32
TAG_KEY_MAX_LENGTH = 100
TAG_VALUE_MAX_LENGTH = 200
# An epoch number above this is surely milliseconds (year 5138 in seconds).
EPOCH_MS_HINT = 1e11


def check_text(value, *, max_length: int, required: bool) -> str | None:
    """The reason ``value`` is not an acceptable text field, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if required and not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters (got {len(value)})"
    from wedsync_ops.validation import text_problem

    return text_problem(value)  # NUL characters, lone surrogates


def parse_timestamp(raw, *, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
    """``(aware UTC datetime, None)`` or ``(None, reason)`` for an ISO-8601 string or epoch seconds."""
    if isinstance(raw, bool):
        return None, "must be an ISO-8601 string or epoch seconds"
    if isinstance(raw, str):
        try:
            at = dt.datetime.fromisoformat(raw)
        except ValueError:
            return None, "must be an ISO-8601 date-time (e.g. 2026-06-13T12:00:00Z) or epoch seconds"
        if at.tzinfo is None or at.utcoffset() is None:
            return None, "must include a UTC offset (e.g. Z or +01:00)"
        at = at.astimezone(dt.UTC)
    elif isinstance(raw, int | float):
        if not math.isfinite(raw):
            return None, "must be a finite number of epoch seconds"
        if raw > EPOCH_MS_HINT:
            return None, "looks like epoch milliseconds; send epoch seconds"
        try:
            at = dt.datetime.fromtimestamp(raw, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None, "is not a valid epoch time"
    else:
        return None, "must be an ISO-8601 string or epoch seconds"
    if at < now - METRICS_RETENTION:
        return None, f"is older than the {METRICS_RETENTION.days}-day retention"
    if at > now + METRICS_MAX_FUTURE:
        return None, f"is more than {int(METRICS_MAX_FUTURE.total_seconds() // 60)} minutes in the future"
    return at, None
