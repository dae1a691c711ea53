"""APM state changes: metric ingest (validation, then COPY), partitions, aggregation, API keys."""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import threading
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

# Raw points are kept this long (DESIGN.md: platform retention, metrics 90 days);
# ingest refuses older timestamps.
METRICS_RETENTION = dt.timedelta(days=90)
# Clock skew a sender may have: timestamps at most this far in the future.
METRICS_MAX_FUTURE = dt.timedelta(minutes=5)
# Column sizes of apm_metrics (apm/sql/0002_apm_metrics.sql), in characters.
SERVICE_MAX_LENGTH = 100
METRIC_NAME_MAX_LENGTH = 200
UNIT_MAX_LENGTH = 20
# Tags: at most this many per point, keys and values at most these lengths.
TAGS_MAX_COUNT = 32
TAG_KEY_MAX_LENGTH = 100
TAG_VALUE_MAX_LENGTH = 200
# Bucket widths the beat job aggregates, in seconds: 1 minute, 5 minutes, 1 hour.
AGGREGATION_BUCKETS = (60, 300, 3600)
# An epoch number above this is surely milliseconds (year 5138 in seconds).
_EPOCH_MS_HINT = 1e11

API_KEY_PREFIX = "wso_"


@dataclass(frozen=True)
class MetricRow:
    """One validated metric point, ready for COPY. ``value`` in ``unit`` (ms for latencies)."""

    organization_id: uuid.UUID
    service: str
    metric_name: str
    value: float
    recorded_at: dt.datetime
    unit: str = ""
    tags: dict = field(default_factory=dict)


class MetricsValidationError(ValidationError):
    """A metric batch was refused; nothing was stored.

    Either ``detail`` (str) says what is wrong with the batch as a whole
    (not a batch, empty, too many points), or ``errors`` lists every bad
    field of every bad point, in order:
    ``[{"index": 3, "field": "value", "reason": "must be a finite number"}]``
    (``index`` is the point's 0-based position in the batch).
    """

    def __init__(self, *, detail: str | None = None, errors: list[dict] | None = None):
        self.detail = detail
        self.errors = errors or []
        super().__init__(detail or f"{len(self.errors)} invalid field(s) in the metric batch")

    def as_dict(self, *, max_errors: int = 100) -> dict:
        """The API error body: ``{"detail": str}`` or ``{"errors": [...], "error_count": n}``.

        At most ``max_errors`` errors are listed; ``error_count`` is the total.
        """
        if self.detail is not None:
            return {"detail": self.detail}
        return {"errors": self.errors[:max_errors], "error_count": len(self.errors)}


# --- ingest -----------------------------------------------------------------

_POINT_FIELDS = frozenset({"service", "name", "value", "unit", "timestamp", "tags"})
_TENANT_FIELDS = frozenset({"organization", "organization_id", "org", "org_id"})


def _check_text(value, *, max_length: int, required: bool) -> str | None:
    """The reason ``value`` is not an acceptable text field, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if required and not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters (got {len(value)})"
    if "\x00" in value:
        return "must not contain NUL characters"
    return None


def _parse_timestamp(raw, *, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
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
        if raw > _EPOCH_MS_HINT:
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


def metrics_validate(*, organization_id: uuid.UUID, payload, now: dt.datetime) -> list[MetricRow]:
    """Validate a decoded JSON metric batch; return its points as MetricRows of ``organization_id``.

    ``payload`` is ``{"metrics": [point, …]}`` or a bare ``[point, …]``; a
    point is ``{"service": str (≤100), "name": str (≤200), "value": number,
    "unit": str (≤20, optional), "timestamp": ISO-8601 with offset or epoch
    seconds (optional, default ``now``), "tags": {str: str} (optional, ≤32)}``.
    Timestamps must lie within the 90-day retention and at most 5 minutes
    after ``now`` (aware datetime). Unknown fields are refused (a typo such
    as ``"ts"`` would otherwise silently mean ``now``); so is any attempt to
    name an organization: it comes from the caller's credentials only.

    Every point is checked before anything is returned. Raises
    MetricsValidationError with ``detail`` for a batch that is not a batch,
    is empty or has more than ``settings.METRICS_MAX_BATCH`` points, or
    with ``errors`` listing every bad field of every point. Plain Python,
    no serializer: ~10,000 points validate in milliseconds.
    """
    if isinstance(payload, dict):
        extra = sorted(set(payload) - {"metrics"})
        if extra:
            raise MetricsValidationError(
                detail=f'unknown top-level field(s) {", ".join(extra)}: the body is {{"metrics": [...]}}'
            )
        if "metrics" not in payload:
            raise MetricsValidationError(detail='the body must have a "metrics" list')
        points = payload["metrics"]
    else:
        points = payload
    if not isinstance(points, list):
        raise MetricsValidationError(
            detail='the body must be {"metrics": [point, ...]} or a list of points'
        )
    if not points:
        raise MetricsValidationError(detail="the batch is empty")
    limit = settings.METRICS_MAX_BATCH
    if len(points) > limit:
        raise MetricsValidationError(detail=f"the batch has {len(points)} points; at most {limit} are accepted")

    errors: list[dict] = []
    rows: list[MetricRow] = []
    for index, point in enumerate(points):
        if not isinstance(point, dict):
            errors.append({"index": index, "field": None, "reason": "must be a JSON object"})
            continue
        point_errors = len(errors)

        def bad(name, reason, index=index):
            errors.append({"index": index, "field": name, "reason": reason})

        for key in sorted(point.keys() - _POINT_FIELDS):
            if key in _TENANT_FIELDS:
                bad(key, "not allowed: the organization comes from the API key")
            else:
                bad(key[:120], "unknown field")

        service = point.get("service")
        if service is None:
            bad("service", "is required")
        elif reason := _check_text(service, max_length=SERVICE_MAX_LENGTH, required=True):
            bad("service", reason)

        name = point.get("name")
        if name is None:
            bad("name", "is required")
        elif reason := _check_text(name, max_length=METRIC_NAME_MAX_LENGTH, required=True):
            bad("name", reason)

        value = point.get("value")
        if value is None:
            bad("value", "is required")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            bad("value", "must be a number")
        else:
            try:
                value = float(value)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value):
                bad("value", "must be a finite number")

        unit = point.get("unit")
        if unit is None:
            unit = ""
        elif reason := _check_text(unit, max_length=UNIT_MAX_LENGTH, required=False):
            bad("unit", reason)

        raw_at = point.get("timestamp")
        if raw_at is None:
            recorded_at = now
        else:
            recorded_at, reason = _parse_timestamp(raw_at, now=now)
            if reason:
                bad("timestamp", reason)

        tags = point.get("tags")
        if tags is None:
            tags = {}
        elif not isinstance(tags, dict):
            bad("tags", "must be an object of string keys and string values")
        elif len(tags) > TAGS_MAX_COUNT:
            bad("tags", f"must have at most {TAGS_MAX_COUNT} tags (got {len(tags)})")
        else:
            for key, tag_value in tags.items():
                if reason := _check_text(key, max_length=TAG_KEY_MAX_LENGTH, required=True):
                    bad(f"tags.{key}"[:120], f"tag name {reason}")
                elif reason := _check_text(tag_value, max_length=TAG_VALUE_MAX_LENGTH, required=False):
                    bad(f"tags.{key}"[:120], f"tag value {reason}")

        if len(errors) == point_errors:
            rows.append(MetricRow(organization_id, service, name, value, recorded_at, unit, tags))
    if errors:
        raise MetricsValidationError(errors=errors)
    return rows


def metrics_ingest(*, organization_id: uuid.UUID, payload, now: dt.datetime) -> int:
    """Validate a metric batch (see ``metrics_validate``) and store it with one COPY; returns points stored.

    Validation comes first and covers every point: on MetricsValidationError
    nothing is written. Must run in a transaction whose tenant context may
    write ``organization_id``'s rows (the API key's vendor context, or
    service); RLS refuses anything else.
    """
    rows = metrics_validate(organization_id=organization_id, payload=payload, now=now)
    return metrics_copy(rows=rows)


# --- partitions ---------------------------------------------------------------

# UTC days whose apm_metrics partition is known to exist in this process
# (added only after the creating transaction commits).
_known_partition_days: set[dt.date] = set()
_known_lock = threading.Lock()


def metrics_ensure_partitions(*, from_day: dt.date, to_day: dt.date) -> int:
    """Create the missing daily partitions of ``apm_metrics`` for UTC days ``from_day``..``to_day``.

    Calls the SECURITY DEFINER function ``apm_ensure_metric_partitions``
    (the application role cannot create tables itself); safe to run
    concurrently. Returns the number of partitions created. At most 400
    days at once (the function raises otherwise). Creating a partition
    takes an ACCESS EXCLUSIVE lock on ``apm_metrics`` until the transaction
    ends, which is why the beat job creates them a week ahead.
    """
    with connection.cursor() as cur:
        cur.execute("SELECT apm_ensure_metric_partitions(%s, %s)", [from_day, to_day])
        (created,) = cur.fetchone()
    days = {from_day + dt.timedelta(days=i) for i in range((to_day - from_day).days + 1)}

    def remember():
        with _known_lock:
            _known_partition_days.update(days)

    transaction.on_commit(remember)
    return created


def _ensure_partitions_for(rows: list[MetricRow]) -> None:
    """Ensure the partitions of the rows' UTC days, one call per run of consecutive missing days."""
    days = {row.recorded_at.astimezone(dt.UTC).date() for row in rows}
    with _known_lock:
        missing = sorted(days - _known_partition_days)
    if not missing:
        return
    run_start = previous = missing[0]
    for day in [*missing[1:], None]:
        if day is not None and day - previous == dt.timedelta(days=1):
            previous = day
            continue
        metrics_ensure_partitions(from_day=run_start, to_day=previous)
        run_start = previous = day


# --- COPY -----------------------------------------------------------------------

_STAGE_COLUMNS = "organization_id, service, metric_name, value, unit, tags, recorded_at"


def metrics_copy(*, rows: list[MetricRow]) -> int:
    """Write validated rows into ``apm_metrics`` with one COPY; returns rows written.

    Ensures the daily partitions the rows fall in exist first. Must run in a
    transaction whose tenant context may insert these organizations' rows.

    PostgreSQL refuses ``COPY … FROM`` into a table with row-level security
    ("COPY FROM not supported with row-level security"), so the rows are
    COPYed into a session-local temporary staging table (no RLS, emptied at
    commit) and moved into ``apm_metrics`` by one ``INSERT … SELECT``, which
    RLS checks row by row: a vendor context cannot write another
    organization's rows. ``ingested_at`` is the transaction's start time.
    Raises ``django.db.DatabaseError`` (e.g. an RLS violation) and writes
    nothing then.
    """
    if not rows:
        return 0
    _ensure_partitions_for(rows)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS apm_metrics_stage ("
            " organization_id uuid NOT NULL, service text NOT NULL, metric_name text NOT NULL,"
            " value double precision NOT NULL, unit text NOT NULL, tags jsonb NOT NULL,"
            " recorded_at timestamptz NOT NULL) ON COMMIT DELETE ROWS"
        )
        with cur.cursor.copy(f"COPY apm_metrics_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            dumps = json.dumps
            for row in rows:
                copy.write_row(
                    (
                        row.organization_id,
                        row.service,
                        row.metric_name,
                        row.value,
                        row.unit,
                        dumps(row.tags, separators=(",", ":")),
                        row.recorded_at,
                    )
                )
        cur.execute(
            f"WITH staged AS (DELETE FROM apm_metrics_stage RETURNING {_STAGE_COLUMNS})"
            f" INSERT INTO apm_metrics ({_STAGE_COLUMNS}) SELECT {_STAGE_COLUMNS} FROM staged"
        )
        return cur.rowcount


# --- aggregation ------------------------------------------------------------------


def metrics_aggregate(*, bucket_seconds: int = 60) -> int:
    """Run ``aggregate_metrics(interval)`` for buckets of ``bucket_seconds``; returns aggregation rows written.

    Incremental and idempotent (see apm/sql/0003_aggregate_metrics.sql): only
    buckets with newly ingested rows are recomputed; unchanged statistics are
    not rewritten. Needs a staff or service context; raises
    ``django.db.DatabaseError`` otherwise or for a width outside 1..86400 s.
    """
    if isinstance(bucket_seconds, bool) or not isinstance(bucket_seconds, int) or not 1 <= bucket_seconds <= 86400:
        raise ValueError(f"bucket_seconds must be an integer from 1 to 86400, got {bucket_seconds!r}")
    # A savepoint, so that an error leaves the caller's transaction usable
    # (and the caller's context manager can still restore its context).
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT aggregate_metrics(make_interval(secs => %s))", [bucket_seconds])
        (written,) = cur.fetchone()
    return written


# --- API keys ---------------------------------------------------------------------


def api_key_create(*, organization, name: str):
    """Create an ingest API key for ``organization``; returns ``(ApiKey, raw_key)``.

    The raw key (``wso_`` + 43 url-safe characters, 256 bits) is returned
    once and never stored: the row holds its SHA-256 and its first 12
    characters (``prefix``) to recognise it. Raises ValidationError for an
    empty name or one longer than 100 characters. Needs a context that may
    write the organization's rows (service, staff, or its vendor context).
    """
    from wedsync_ops.tenancy.auth import hash_token
    from wedsync_ops.tenancy.models import ApiKey

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "must not be empty"})
    if len(name) > 100:
        raise ValidationError({"name": f"must be at most 100 characters (got {len(name)})"})
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(organization=organization, name=name, prefix=raw[:12], key_hash=hash_token(raw))
    return key, raw
