"""Error reports: ingest (patterns, suppression, wedding-day incidents), pattern status, suppression rules."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from wedsync_ops.tenancy.wedding_day import wedding_day

from ..queries import query

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
        return {
            "accepted": self.accepted,
            "suppressed": self.suppressed,
            "patterns": self.patterns,
            "regressions": self.regressions,
            "incidents": [str(i) for i in self.incidents],
        }


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

    from ..errors import errors_validate
    from ..models import ErrorPattern, ErrorSuppressionRule

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
                        (
                            r.organization_id,
                            r.service,
                            r.error_type,
                            r.message,
                            r.stack_trace,
                            r.level,
                            r.environment,
                            r.release,
                            r.url,
                            json.dumps(r.tags, separators=(",", ":")),
                            r.occurred_at,
                            r.normalized_message,
                            r.top_frame,
                            r.fingerprint,
                        )
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

    opened: list = []
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
    from ..models import ErrorPattern

    if status not in ErrorPattern.Status.values:
        raise ValidationError({"status": f"must be one of {', '.join(ErrorPattern.Status.values)}"})
    pattern.status = status
    pattern.resolved_at = now if status == ErrorPattern.Status.RESOLVED else None
    pattern.save(update_fields=["status", "resolved_at"])
    return pattern


def error_suppression_rule_create(
    *,
    organization,
    name: str,
    service: str = "",
    error_type: str = "",
    message_contains: str = "",
    expires_at: dt.datetime | None = None,
):
    """Create an error suppression rule (``organization`` None: platform-wide); returns it.

    Raises ValidationError when the name is empty or no criterion is given
    (a rule that matches everything would hide every error).
    """
    from ..models import ErrorSuppressionRule

    errors = {}
    if not (name or "").strip():
        errors["name"] = "must not be empty"
    if not (service or error_type or message_contains):
        errors["service"] = "give at least one of service, error_type, message_contains"
    if errors:
        raise ValidationError(errors)
    return ErrorSuppressionRule.objects.create(
        organization=organization,
        name=name.strip(),
        service=service,
        error_type=error_type,
        message_contains=message_contains,
        expires_at=expires_at,
    )
