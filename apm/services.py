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

from wedsync_ops.choices import ServiceStatus
from wedsync_ops.tenancy.wedding_day import wedding_day

from .queries import query

# Raw points are kept this long (DESIGN.md: platform retention, metrics 90 days);
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
    from wedsync_ops.validation import text_problem

    return text_problem(value)  # NUL characters, lone surrogates


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
    (the application role cannot create tables itself) in a service context
    of its own (the function refuses other contexts); safe to run
    concurrently. Returns the number of partitions created. At most 400
    days at once (the function raises otherwise). Creating a partition
    takes an ACCESS EXCLUSIVE lock on ``apm_metrics`` until the transaction
    ends, which is why the beat job creates them a week ahead.
    """
    from wedsync_ops.tenancy.context import service_context

    # The function needs a platform context; a vendor's ingest borrows one for this call only.
    with service_context(), connection.cursor() as cur:
        cur.execute("SELECT apm_ensure_metric_partitions(%s, %s)", [from_day, to_day])
        (created,) = cur.fetchone()
    days = {from_day + dt.timedelta(days=i) for i in range((to_day - from_day).days + 1)}

    def remember():
        with _known_lock:
            _known_partition_days.update(days)

    transaction.on_commit(remember)
    return created


def metrics_ensure_partitions_for(*, days: set[dt.date] | frozenset[dt.date]) -> None:
    """Ensure the ``apm_metrics`` partitions of these UTC days, one call per run of consecutive missing days.

    Days already known to exist in this process cost nothing (no query).
    """
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
# Binary COPY: PostgreSQL parses no text (uuid, float8, timestamptz arrive as their binary forms).
_STAGE_TYPES = ["uuid", "text", "text", "float8", "text", "text", "timestamptz"]
def ensure_stage_table(cur, *, name: str, create_sql: str) -> None:
    """Create the session-local staging table ``name`` in this transaction if it is missing (idempotent SQL).

    Run in every transaction that stages rows, not once per connection:
    behind a transaction-pooling PgBouncer the next transaction may be on
    another server session, where the table does not exist yet.
    """
    cur.execute(create_sql)


def metrics_copy(*, rows: list[MetricRow]) -> int:
    """Write validated rows into ``apm_metrics`` with one COPY; returns rows written (see ``metrics_copy_tuples``)."""
    if not rows:
        return 0
    dumps = json.dumps
    # Batches repeat a few tag sets: encode each distinct one once.
    encoded: dict[tuple, str] = {}
    tuples = []
    days = set()
    for row in rows:
        tags = row.tags
        if tags:
            key = tuple(tags.items())
            text = encoded.get(key)
            if text is None:
                text = encoded[key] = dumps(tags, separators=(",", ":"))
        else:
            text = "{}"
        at = row.recorded_at
        days.add(at.astimezone(dt.UTC).date())
        org = row.organization_id
        tuples.append((org if isinstance(org, uuid.UUID) else uuid.UUID(str(org)), row.service, row.metric_name,
                       float(row.value), row.unit, text, at))
    return metrics_copy_tuples(rows=tuples, days=days)


def metrics_copy_tuples(*, rows: list[tuple], days: set[dt.date]) -> int:
    """Write validated points into ``apm_metrics`` with one COPY; returns rows written.

    ``rows``: ``(organization_id, service, metric_name, value, unit,
    tags_json, recorded_at)`` tuples (organization id a ``uuid.UUID``,
    value a float, tags a JSON object text, recorded_at an aware datetime:
    they go out in COPY's binary format); ``days``: the
    UTC days of their ``recorded_at``, whose daily partitions are ensured
    first. Must run in a transaction whose tenant context may insert these
    organizations' rows.

    PostgreSQL refuses ``COPY … FROM`` into a table with row-level security
    ("COPY FROM not supported with row-level security"), so the rows are
    COPYed into a session-local temporary staging table (no RLS, emptied at
    commit) and moved into ``apm_metrics`` by
    one ``INSERT … SELECT`` (``apm/sql/queries/metrics_move_staged.sql``)
    that adds each row's ``wedding_context`` set-based and that RLS checks
    row by row: a vendor context cannot write another organization's rows.
    ``ingested_at`` is the transaction's start time. Raises
    ``django.db.DatabaseError`` (e.g. an RLS violation) and writes nothing then.
    """
    if not rows:
        return 0
    metrics_ensure_partitions_for(days=days)
    with connection.cursor() as cur:
        ensure_stage_table(cur, name="apm_metrics_stage_v3", create_sql=query("metrics_stage_create"))
        with cur.cursor.copy(f"COPY apm_metrics_stage_v3 ({_STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_STAGE_TYPES)
            write = copy.write_row
            for row in rows:
                write(row)
        cur.execute(query("metrics_move_staged"))
        return cur.rowcount


# --- aggregation ------------------------------------------------------------------


def metrics_aggregate(*, bucket_seconds: int = 60) -> int:
    """Run ``aggregate_metrics(interval)`` for buckets of ``bucket_seconds``; returns aggregation rows written.

    Incremental and idempotent (see apm/sql/functions/aggregate_metrics.v3.sql): only
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


# --- partition retention ------------------------------------------------------------


def metrics_drop_expired_partitions(*, now: dt.datetime) -> int:
    """Drop the daily ``apm_metrics`` partitions whose whole UTC day is past the 90-day retention; returns how many.

    A partition of day D is dropped when D < (now - 90 days).date() (UTC),
    so no row younger than 90 days is ever dropped. Calls the SECURITY
    DEFINER function ``apm_drop_metric_partitions`` (staff or service
    context; raises ``django.db.DatabaseError`` otherwise). Forgets the
    dropped days so that late ingest would recreate them (ingest refuses
    such old points anyway).
    """
    cutoff = (now.astimezone(dt.UTC) - METRICS_RETENTION).date()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT apm_drop_metric_partitions(%s)", [cutoff])
        (dropped,) = cur.fetchone()
    with _known_lock:
        _known_partition_days.difference_update({d for d in _known_partition_days if d < cutoff})
    return dropped


# --- error reports ------------------------------------------------------------------

_ERROR_COLUMNS = (
    "organization_id, service, error_type, message, stack_trace, level, environment, release, url, tags,"
    " occurred_at, normalized_message, top_frame, fingerprint"
)

# The patterns of the staged reports, upserted in one statement. ``before``
# reads the patterns' status under the statement's snapshot (the version
# before this statement's update), which tells a regression apart; the
# counters themselves use the row's latest version (ON CONFLICT), so two
# concurrent batches both count.
_UPSERT_PATTERNS_SQL = """
WITH batch AS (
    SELECT organization_id, fingerprint,
           (array_agg(service ORDER BY occurred_at DESC))[1] AS service,
           (array_agg(error_type ORDER BY occurred_at DESC))[1] AS error_type,
           (array_agg(normalized_message ORDER BY occurred_at DESC))[1] AS normalized_message,
           (array_agg(top_frame ORDER BY occurred_at DESC))[1] AS top_frame,
           (array_agg(level ORDER BY CASE level WHEN 'critical' THEN 3 WHEN 'error' THEN 2
                                                WHEN 'warning' THEN 1 ELSE 0 END DESC))[1] AS level,
           min(occurred_at) AS first_seen, max(occurred_at) AS last_seen, count(*) AS n
    FROM apm_errors_stage
    GROUP BY organization_id, fingerprint
), before AS (
    SELECT e.id, e.status FROM error_patterns e
    WHERE (e.organization_id, e.fingerprint) IN (SELECT organization_id, fingerprint FROM batch)
), upserted AS (
INSERT INTO error_patterns AS p
       (organization_id, fingerprint, service, error_type, normalized_message, top_frame, level, status,
        first_seen, last_seen, occurrence_count, regression_count)
SELECT organization_id, fingerprint, service, error_type, normalized_message, top_frame, level, 'unresolved',
       first_seen, last_seen, n, 0
FROM batch
ORDER BY organization_id, fingerprint
ON CONFLICT (organization_id, fingerprint) DO UPDATE SET
    first_seen = least(p.first_seen, EXCLUDED.first_seen),
    last_seen = greatest(p.last_seen, EXCLUDED.last_seen),
    occurrence_count = p.occurrence_count + EXCLUDED.occurrence_count,
    level = CASE WHEN (CASE EXCLUDED.level WHEN 'critical' THEN 3 WHEN 'error' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END)
                    > (CASE p.level WHEN 'critical' THEN 3 WHEN 'error' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END)
                 THEN EXCLUDED.level ELSE p.level END,
    status = CASE WHEN p.status = 'resolved' AND EXCLUDED.last_seen > p.resolved_at THEN 'unresolved' ELSE p.status END,
    regressed_at = CASE WHEN p.status = 'resolved' AND EXCLUDED.last_seen > p.resolved_at
                        THEN EXCLUDED.last_seen ELSE p.regressed_at END,
    regression_count = p.regression_count
                       + CASE WHEN p.status = 'resolved' AND EXCLUDED.last_seen > p.resolved_at THEN 1 ELSE 0 END,
    resolved_at = CASE WHEN p.status = 'resolved' AND EXCLUDED.last_seen > p.resolved_at
                       THEN NULL ELSE p.resolved_at END
RETURNING p.id, p.fingerprint, p.status
)
SELECT u.id, u.fingerprint, b.status = 'resolved' AND u.status = 'unresolved' AS regressed
FROM upserted u LEFT JOIN before b ON b.id = u.id
"""


@dataclass
class ErrorsIngestResult:
    """What ``errors_ingest`` did: reports stored and suppressed, patterns created/regressed, incidents opened."""

    accepted: int = 0
    suppressed: int = 0
    patterns: int = 0
    regressions: int = 0
    incidents: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "suppressed": self.suppressed, "patterns": self.patterns,
                "regressions": self.regressions, "incidents": [str(i) for i in self.incidents]}


def _suppressing_rule(row, rules):
    message = row.message.lower()
    for rule in rules:
        if rule.service and rule.service != row.service:
            continue
        if rule.error_type and rule.error_type != row.error_type:
            continue
        if rule.message_contains and rule.message_contains.lower() not in message:
            continue
        return rule
    return None


def errors_ingest(*, organization_id: uuid.UUID, payload, now: dt.datetime) -> ErrorsIngestResult:
    """Validate an error batch (``apm.errors.errors_validate``), apply suppression rules, store the rest.

    Writes set-based: the reports are COPYed into a session-local staging
    table; one ``INSERT … ON CONFLICT`` upserts their patterns (first/last
    seen, count, worst level; a resolved pattern seen after ``resolved_at``
    becomes unresolved again: a regression); one ``INSERT … SELECT`` stores
    the reports with their pattern ids and ``wedding_context`` (of the
    organization's local date at ``occurred_at``, as for metrics). Suppressed reports (an active
    ``ErrorSuppressionRule`` of the organization or platform-wide matches)
    are only counted, on the rule. A ``critical`` report of a pattern that
    is not ignored, while the organization's wedding-day protocol is on at
    ``now``, opens (or adds to) a ``p0`` incident through
    ``incidents.services.incident_open_from_error_pattern``.
    Raises ``apm.errors.ErrorsValidationError`` before writing anything.
    Needs a context that may write ``organization_id``'s rows.
    """
    from django.db.models import F, Q

    from .errors import errors_validate
    from .models import ErrorPattern, ErrorSuppressionRule

    rows = errors_validate(organization_id=organization_id, payload=payload, now=now)
    result = ErrorsIngestResult()
    rules = list(
        ErrorSuppressionRule.objects.filter(enabled=True)
        .filter(Q(organization_id=organization_id) | Q(organization__isnull=True))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("id")
    )
    kept = []
    suppressed_by: dict[int, int] = {}
    for row in rows:
        rule = _suppressing_rule(row, rules) if rules else None
        if rule is None:
            kept.append(row)
        else:
            suppressed_by[rule.pk] = suppressed_by.get(rule.pk, 0) + 1
    result.suppressed = len(rows) - len(kept)
    with transaction.atomic():
        for rule_id, count in suppressed_by.items():
            ErrorSuppressionRule.objects.filter(pk=rule_id).update(suppressed_count=F("suppressed_count") + count)
        if not kept:
            return result
        with connection.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS apm_errors_stage ("
                " organization_id uuid NOT NULL, service text NOT NULL, error_type text NOT NULL,"
                " message text NOT NULL, stack_trace text NOT NULL, level text NOT NULL, environment text NOT NULL,"
                " release text NOT NULL, url text NOT NULL, tags jsonb NOT NULL, occurred_at timestamptz NOT NULL,"
                " normalized_message text NOT NULL, top_frame text NOT NULL, fingerprint text NOT NULL)"
                " ON COMMIT DELETE ROWS"
            )
            with cur.cursor.copy(f"COPY apm_errors_stage ({_ERROR_COLUMNS}) FROM STDIN") as copy:
                for r in kept:
                    copy.write_row(
                        (r.organization_id, r.service, r.error_type, r.message, r.stack_trace, r.level,
                         r.environment, r.release, r.url, json.dumps(r.tags, separators=(",", ":")), r.occurred_at,
                         r.normalized_message, r.top_frame, r.fingerprint)
                    )
            cur.execute(_UPSERT_PATTERNS_SQL)
            upserted = cur.fetchall()
            result.patterns = len(upserted)
            result.regressions = sum(1 for _id, _fp, regressed in upserted if regressed)
            cur.execute(query("error_reports_move_staged"), {"received_at": now})
            result.accepted = cur.rowcount
        critical = {r.fingerprint: r for r in kept if r.level == "critical"}
        if critical:
            result.incidents = _open_wedding_day_incidents(
                organization_id=organization_id, critical=critical, now=now, pattern_model=ErrorPattern
            )
    return result


def _open_wedding_day_incidents(*, organization_id, critical: dict, now: dt.datetime, pattern_model) -> list:
    """Open (or add to) a p0 incident per critical, non-ignored pattern while the wedding-day protocol is on."""
    from incidents.services import incident_open_from_error_pattern
    from wedsync_ops.tenancy.context import service_context

    opened = []
    # Service context: the incident, its timeline and its notification outbox
    # rows are written as the platform, whatever the caller's context.
    with service_context():
        if not wedding_day(organization_id=organization_id, at=now).on:
            return opened
        patterns = pattern_model.objects.filter(
            organization_id=organization_id, fingerprint__in=list(critical)
        ).exclude(status=pattern_model.Status.IGNORED)
        for pattern in patterns:
            row = critical[pattern.fingerprint]
            incident, created = incident_open_from_error_pattern(
                organization_id=organization_id,
                service=pattern.service,
                signature=f"{pattern.error_type}#{pattern.fingerprint[:12]}",
                message=row.message,
                occurrences=pattern.occurrence_count,
                now=now,
            )
            if pattern.incident_id != incident.pk:
                pattern_model.objects.filter(pk=pattern.pk).update(incident=incident)
            if created:
                opened.append(incident.pk)
    return opened


def error_pattern_set_status(*, pattern, status: str, now: dt.datetime):
    """Set a pattern's status (unresolved, resolved, ignored); resolving stamps ``resolved_at = now``.

    Returns the pattern. Raises ValidationError for an unknown status.
    """
    from .models import ErrorPattern

    if status not in ErrorPattern.Status.values:
        raise ValidationError({"status": f"must be one of {', '.join(ErrorPattern.Status.values)}"})
    pattern.status = status
    pattern.resolved_at = now if status == ErrorPattern.Status.RESOLVED else None
    pattern.save(update_fields=["status", "resolved_at"])
    return pattern


def error_suppression_rule_create(
    *, organization, name: str, service: str = "", error_type: str = "", message_contains: str = "",
    expires_at: dt.datetime | None = None,
):
    """Create an error suppression rule (``organization`` None: platform-wide); returns it.

    Raises ValidationError when the name is empty or no criterion is given
    (a rule that matches everything would hide every error).
    """
    from .models import ErrorSuppressionRule

    errors = {}
    if not (name or "").strip():
        errors["name"] = "must not be empty"
    if not (service or error_type or message_contains):
        errors["service"] = "give at least one of service, error_type, message_contains"
    if errors:
        raise ValidationError(errors)
    return ErrorSuppressionRule.objects.create(
        organization=organization, name=name.strip(), service=service, error_type=error_type,
        message_contains=message_contains, expires_at=expires_at,
    )


# --- provider configurations ---------------------------------------------------------

POLL_ALERT_SOURCE = "apm"


def apm_configuration_create(
    *, organization, name: str, provider: str, base_url: str, service: str, query: str = "",
    credentials: dict | None = None, poll_interval_seconds: int = 60, timeout_seconds: float | None = None,
    alert_after_failures: int | None = None, enabled: bool = True,
):
    """Create a provider configuration with its credentials encrypted (``apm.crypto``); returns it.

    ``credentials`` is a provider-specific dict (see ``apm.providers``),
    stored only as a Fernet token. Raises ValidationError naming the field
    for an unknown provider, empty name/service, a bad URL, or an interval
    outside APM_POLL_MIN_INTERVAL_S..86,400 s.
    """
    from django.core.validators import URLValidator

    from . import conf
    from .crypto import encrypt_credentials
    from .models import ApmConfiguration
    from .providers import PROVIDERS

    errors = {}
    if provider not in PROVIDERS:
        errors["provider"] = f"must be one of {', '.join(sorted(PROVIDERS))}"
    if not (name or "").strip():
        errors["name"] = "must not be empty"
    if not (service or "").strip() or len(service) > SERVICE_MAX_LENGTH:
        errors["service"] = f"must be 1 to {SERVICE_MAX_LENGTH} characters"
    try:
        URLValidator(schemes=["http", "https"])(base_url)
    except ValidationError:
        errors["base_url"] = "must be an http(s) URL"
    if not conf.APM_POLL_MIN_INTERVAL_S <= int(poll_interval_seconds) <= 86400:
        errors["poll_interval_seconds"] = f"must be from {conf.APM_POLL_MIN_INTERVAL_S} to 86400 seconds"
    if credentials is not None and not isinstance(credentials, dict):
        errors["credentials"] = "must be an object"
    if errors:
        raise ValidationError(errors)
    return ApmConfiguration.objects.create(
        organization=organization, name=name.strip(), provider=provider, base_url=base_url, service=service,
        query=query, credentials_encrypted=encrypt_credentials(credentials or {}),
        poll_interval_seconds=poll_interval_seconds,
        timeout_seconds=timeout_seconds if timeout_seconds is not None else conf.APM_POLL_TIMEOUT_S,
        alert_after_failures=alert_after_failures if alert_after_failures is not None
        else conf.APM_POLL_ALERT_AFTER_FAILURES,
        enabled=enabled,
    )


def apm_configuration_set_credentials(*, configuration, credentials: dict):
    """Replace a configuration's credentials (encrypted under the newest key); returns the configuration."""
    from .crypto import encrypt_credentials

    configuration.credentials_encrypted = encrypt_credentials(credentials or {})
    configuration.save(update_fields=["credentials_encrypted"])
    return configuration


def apm_configurations_claim_due(*, now: dt.datetime) -> list[int]:
    """Claim the enabled configurations due for a poll at ``now``; returns their ids.

    Due: never polled, or ``last_polled_at + poll_interval_seconds <= now``.
    Claiming sets ``last_polled_at = now`` in one UPDATE over rows locked
    with ``FOR UPDATE SKIP LOCKED``, so two beat workers never poll one
    configuration twice. Needs a staff or service context.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE apm_configurations SET last_polled_at = %(now)s WHERE id IN ("
            " SELECT id FROM apm_configurations WHERE enabled AND (last_polled_at IS NULL"
            " OR last_polled_at + make_interval(secs => poll_interval_seconds) <= %(now)s)"
            " ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id",
            {"now": now},
        )
        return sorted(r[0] for r in cur.fetchall())


def apm_configuration_fetch(*, configuration, now: dt.datetime) -> list[dict]:
    """Ask the provider (no database access): the points of one poll; raises ``apm.providers.ProviderError``.

    Credentials that cannot be decrypted are a ProviderError too (the
    message names no key and no content).
    """
    from .crypto import CredentialsError, decrypt_credentials
    from .providers import PROVIDERS, ProviderError

    try:
        credentials = decrypt_credentials(configuration.credentials_encrypted)
    except CredentialsError as exc:
        raise ProviderError(str(exc)) from exc
    return PROVIDERS[configuration.provider](configuration, credentials, now=now)


def apm_configuration_record_poll(
    *, configuration, now: dt.datetime, points: list[dict] | None = None, error: str | None = None
) -> int:
    """Store one poll's outcome; returns the points stored.

    Success (``points``): they are validated and COPYed as metrics of the
    configuration's organization (invalid points make the poll a failure
    naming the first problem), ``last_success_at = now``, the failure count
    resets and an open poll-failure alert resolves. Failure (``error``, a
    ProviderError message): ``last_error`` and ``consecutive_failures`` + 1;
    when the count reaches ``alert_after_failures`` an alert fires
    (``alerts.services.alert_fire``, fingerprint ``apm-config-<id>``,
    warning/high). Needs a staff or service context.
    """
    from alerts.models import AlertHistory
    from alerts.services import alert_fire, alert_resolve

    from .models import ApmConfiguration

    fingerprint = f"apm-config-{configuration.pk}"
    stored = 0
    with transaction.atomic():
        if error is None and points:
            try:
                rows = metrics_validate(organization_id=configuration.organization_id, payload=points, now=now)
            except MetricsValidationError as exc:
                first = exc.errors[0] if exc.errors else {}
                what = exc.detail or f"{first.get('field')} {first.get('reason', '')}"
                error = f"the provider answered an invalid point: {what}"
            else:
                stored = metrics_copy(rows=rows)
        if error is None:
            ApmConfiguration.objects.filter(pk=configuration.pk).update(
                last_success_at=now, last_error="", consecutive_failures=0
            )
            alert = AlertHistory.objects.filter(
                organization_id=configuration.organization_id, fingerprint=fingerprint,
                status__in=AlertHistory.OPEN_STATUSES,
            ).first()
            if alert is not None:
                alert_resolve(alert=alert, ends_at=now, now=now)
            return stored
        error = error[:1000]
        failures = configuration.consecutive_failures + 1
        ApmConfiguration.objects.filter(pk=configuration.pk).update(last_error=error, consecutive_failures=failures)
        configuration.consecutive_failures, configuration.last_error = failures, error
        if failures >= configuration.alert_after_failures:
            alert_fire(
                organization_id=configuration.organization_id, fingerprint=fingerprint, source=POLL_ALERT_SOURCE,
                title=f"APM provider {configuration.name} failing: {failures} polls in a row",
                labels={"alertname": "ApmProviderPollFailing", "provider": configuration.provider,
                        "configuration": str(configuration.pk)},
                annotations={"last_error": error}, severity="warning", priority="high",
                starts_at=now, now=now, description=error,
            )
    return 0


def credentials_reencrypt(*, batch_size: int = 500, progress=None) -> int:
    """Re-encrypt every configuration's credentials under the newest key; returns how many were rewritten.

    Batches of ``batch_size`` rows, one transaction each, rows locked while
    rewritten; ``progress(done, total)`` is called after each batch. Raises
    ``apm.crypto.CredentialsError`` (and rolls back that batch) for a token
    no configured key decrypts. Needs a staff or service context.
    """
    from .crypto import rotate_token
    from .models import ApmConfiguration

    ids = list(ApmConfiguration.objects.exclude(credentials_encrypted="").order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for config in ApmConfiguration.objects.select_for_update().filter(pk__in=ids[start:start + batch_size]):
                rotated = rotate_token(config.credentials_encrypted)
                ApmConfiguration.objects.filter(pk=config.pk).update(credentials_encrypted=rotated)
                done += 1
        if progress:
            progress(done, len(ids))
    return done


# --- service health checks -------------------------------------------------------------


def health_checks_claim_due(*, now: dt.datetime) -> list[int]:
    """Claim the enabled health checks due at ``now`` (not in maintenance); returns their ids.

    Due: never checked, or ``last_checked_at + interval_seconds <= now``.
    Claimed by setting ``last_checked_at = now`` over rows locked with
    ``FOR UPDATE SKIP LOCKED``. Needs a staff or service context.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE service_health_checks SET last_checked_at = %(now)s WHERE id IN ("
            " SELECT id FROM service_health_checks WHERE enabled AND status <> 'maintenance'"
            " AND (last_checked_at IS NULL OR last_checked_at + make_interval(secs => interval_seconds) <= %(now)s)"
            " ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id",
            {"now": now},
        )
        return sorted(r[0] for r in cur.fetchall())


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one HTTP probe: ``response_ms`` in milliseconds (None when no answer came)."""

    ok: bool
    status_code: int | None
    response_ms: float | None
    error: str


def health_check_probe(*, check) -> ProbeResult:
    """Send the check's HTTP request (no database access); success is ``expected_status`` within the timeout.

    Sent by the portal's outbound client (``wedsync_ops.outbound``, trusted: staff configure checks),
    so a refused address is a failed probe naming the rule; redirects are not followed.
    """
    import time

    import requests

    from wedsync_ops.outbound import OutboundRefused, outbound_request

    started = time.perf_counter()
    try:
        response = outbound_request(check.method, check.url, timeout=check.timeout_seconds, trusted=True)
    except OutboundRefused as exc:
        return ProbeResult(False, None, None, f"refused: the URL {exc.reason}")
    except requests.Timeout:
        return ProbeResult(False, None, None, f"timed out after {check.timeout_seconds:g} s")
    except requests.RequestException as exc:
        return ProbeResult(False, None, None, f"no answer: {type(exc).__name__}")
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != check.expected_status:
        return ProbeResult(False, response.status_code, elapsed_ms,
                           f"HTTP {response.status_code}, expected {check.expected_status}")
    return ProbeResult(True, response.status_code, elapsed_ms, "")


def health_check_record(*, check, result: ProbeResult, now: dt.datetime):
    """Store one probe's result and move the check's status; returns the check.

    Status after the result: ``healthy`` on success; on failure
    ``warning`` while ``consecutive_failures < failure_threshold``, else
    ``critical``. A change of status writes a ``ServiceHealthTransition``
    (reason: the probe's error or "recovered"). A check in ``maintenance``
    keeps its status. Needs a context that may write the check's rows.
    """
    from .models import ServiceHealthCheck, ServiceHealthResult, ServiceHealthTransition

    with transaction.atomic():
        check = ServiceHealthCheck.objects.select_for_update().get(pk=check.pk)
        ServiceHealthResult.objects.create(
            health_check=check, organization_id=check.organization_id, checked_at=now, ok=result.ok,
            status_code=result.status_code, response_ms=result.response_ms, error=result.error[:500],
        )
        check.consecutive_failures = 0 if result.ok else check.consecutive_failures + 1
        check.last_checked_at = now
        check.last_response_ms = result.response_ms
        check.last_error = result.error[:500]
        previous = check.status
        if previous != ServiceStatus.MAINTENANCE:
            if result.ok:
                check.status = ServiceStatus.HEALTHY
            elif check.consecutive_failures >= check.failure_threshold:
                check.status = ServiceStatus.CRITICAL
            else:
                check.status = ServiceStatus.WARNING
        if check.status != previous:
            check.status_changed_at = now
            ServiceHealthTransition.objects.create(
                health_check=check, organization_id=check.organization_id, from_status=previous,
                to_status=check.status, at=now, reason=(result.error or "recovered")[:500],
            )
        check.save()
    return check


# --- platform snapshots and retention ------------------------------------------------------


def system_health_snapshot_capture(*, now: dt.datetime) -> int:
    """Write one ``system_health_snapshots`` row for ``now`` (SQL ``capture_system_health_snapshot``); returns its id.

    Needs a staff or service context (raises ``django.db.DatabaseError`` otherwise).
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT capture_system_health_snapshot(%s)", [now])
        return cur.fetchone()[0]


def monitoring_data_cleanup(*, now: dt.datetime) -> int:
    """Apply the platform retention at ``now`` (SQL ``cleanup_monitoring_data``); returns rows deleted.

    90 days for metrics, aggregations, error reports, health-check history
    and snapshots; one year for closed incidents. Staff or service context.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT cleanup_monitoring_data(%s)", [now])
        return cur.fetchone()[0]


# --- dashboards ---------------------------------------------------------------------------

DASHBOARD_AGGREGATIONS = ("avg", "p50", "p95", "p99", "min", "max", "count", "sum")
# Widget windows and the aggregation width drawn for each, in seconds.
DASHBOARD_WINDOWS = {"1h": (dt.timedelta(hours=1), 60), "24h": (dt.timedelta(hours=24), 3600),
                     "7d": (dt.timedelta(days=7), 3600)}
DASHBOARD_CHARTS = ("line", "bar")
DASHBOARD_MAX_WIDGETS = 24


def dashboard_validate_widgets(widgets) -> list[dict]:
    """The widgets, normalised; raises ValidationError ``{"widgets": [reasons]}`` naming ``widgets[i].field``."""
    if not isinstance(widgets, list):
        raise ValidationError({"widgets": ["must be a list of widgets"]})
    if len(widgets) > DASHBOARD_MAX_WIDGETS:
        raise ValidationError({"widgets": [f"at most {DASHBOARD_MAX_WIDGETS} widgets (got {len(widgets)})"]})
    errors, clean = [], []
    allowed = {"title", "service", "metric", "aggregation", "window", "chart"}
    for i, widget in enumerate(widgets):
        if not isinstance(widget, dict):
            errors.append(f"widgets[{i}]: must be an object")
            continue
        for key in sorted(set(widget) - allowed):
            errors.append(f"widgets[{i}].{key[:50]}: unknown field")
        for key, limit in (("service", SERVICE_MAX_LENGTH), ("metric", METRIC_NAME_MAX_LENGTH), ("title", 200)):
            value = widget.get(key, "" if key == "title" else None)
            if value is None:
                errors.append(f"widgets[{i}].{key}: is required")
            elif reason := _check_text(value, max_length=limit, required=key != "title"):
                errors.append(f"widgets[{i}].{key}: {reason}")
        for key, options, default in (("aggregation", DASHBOARD_AGGREGATIONS, "p95"),
                                      ("window", tuple(DASHBOARD_WINDOWS), "24h"), ("chart", DASHBOARD_CHARTS, "line")):
            if widget.get(key, default) not in options:
                errors.append(f"widgets[{i}].{key}: must be one of {', '.join(options)}")
        clean.append({"title": widget.get("title") or "", "service": widget.get("service"),
                      "metric": widget.get("metric"), "aggregation": widget.get("aggregation", "p95"),
                      "window": widget.get("window", "24h"), "chart": widget.get("chart", "line")})
    if errors:
        raise ValidationError({"widgets": errors})
    return clean


def dashboard_save(*, organization, name: str, widgets, by, dashboard=None):
    """Create (``dashboard`` None) or update a dashboard of ``organization``; returns it.

    Raises ValidationError naming ``name`` (empty or over 200 characters)
    or ``widgets`` (see ``dashboard_validate_widgets``). The caller checks
    that ``by`` may edit (an org owner/admin or staff: ``apm.pages``).
    """
    from django.utils import timezone

    from .models import ApmDashboard

    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["must be 1 to 200 characters"]
    try:
        widgets = dashboard_validate_widgets(widgets)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if dashboard is None:
        dashboard = ApmDashboard(organization=organization)
    dashboard.name, dashboard.widgets, dashboard.updated_by = name, widgets, by
    dashboard.updated_at = timezone.now()
    dashboard.save()
    return dashboard
