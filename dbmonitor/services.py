"""State changes of database monitoring: events recorded, resolved and cleaned up.

Services run in the caller's tenant context (a request's staff context, or a
task's ``service_context()``); ``monitoring_events`` is staff-only, so in any
other context they record nothing (an error) and change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models.functions import Now
from psycopg.types.json import Jsonb

from alerts.models import AlertHistory
from alerts.services import FireCandidate, alerts_sync
from wedsync_ops.choices import AlertPriority, AlertSeverity

from . import conf, selectors
from .models import MonitoringEvent

EVENT_TYPE_MAX_LENGTH = 50


def monitoring_event_record(*, event_type: str, severity: str, message: str, details: dict | None = None) -> uuid.UUID:
    """Record an unresolved monitoring event through SQL ``record_monitoring_event`` and return its id.

    ``severity`` is an ``alert_severity`` value (info, warning, critical,
    emergency); ``details`` a JSON-serialisable dict (default ``{}``).
    Raises ValueError naming the field for an empty or too long (> 50)
    ``event_type``, an unknown ``severity``, an empty ``message`` or
    ``details`` that is not a dict; django.db.DatabaseError (insufficient
    privilege) outside a staff or service context.
    """
    if not isinstance(event_type, str) or not event_type.strip():
        raise ValueError("event_type: must be a non-empty string")
    if len(event_type) > EVENT_TYPE_MAX_LENGTH:
        raise ValueError(f"event_type: at most {EVENT_TYPE_MAX_LENGTH} characters")
    if severity not in AlertSeverity.values:
        raise ValueError(f"severity: must be one of {', '.join(AlertSeverity.values)}, got {severity!r}")
    if not isinstance(message, str) or not message.strip():
        raise ValueError("message: must be a non-empty string")
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise ValueError("details: must be a dict")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT record_monitoring_event(%s, %s::alert_severity, %s, %s)",
            [event_type, severity, message, Jsonb(details)],  # type: ignore[list-item]  # psycopg adapts Jsonb
        )
        return cur.fetchone()[0]


def monitoring_events_resolve(*, event_ids: Iterable[uuid.UUID | str], at: dt.datetime | None = None) -> int:
    """Mark the unresolved events among ``event_ids`` resolved at ``at`` (default: the database's now()).

    Returns how many rows changed (already resolved events and events the
    context cannot see are left alone). Raises ValueError for a naive ``at``.
    """
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError("at: must be timezone-aware")
    ids = list(event_ids)
    if not ids:
        return 0
    return MonitoringEvent.objects.filter(id__in=ids, resolved=False).update(
        resolved=True, resolved_at=at if at is not None else Now()
    )


def monitoring_data_cleanup() -> int:
    """Run SQL ``cleanup_old_monitoring_data()``: delete resolved events older than 30 days and
    unresolved ones older than 7 days. Returns the number of rows deleted (0 outside a platform context)."""
    with connection.cursor() as cur:
        cur.execute("SELECT cleanup_old_monitoring_data()")
        return cur.fetchone()[0]


def _require_aware(name: str, value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: must be a timezone-aware datetime")


# --- History -------------------------------------------------------------------------------


def db_snapshot_capture(*, now: dt.datetime) -> int | None:
    """Write one history snapshot taken at ``now`` (SQL ``capture_db_snapshot``); return its id.

    Records connections, ``pg_stat_database`` counters, per-table statistics
    and the deltas of ``pg_stat_statements`` since the previous snapshot
    (against the stored cumulative baselines: pg_stat_statements is never
    reset). None when a snapshot at ``now`` exists already (a repeated beat).
    Platform contexts only: django.db.DatabaseError (insufficient privilege)
    otherwise. Raises ValueError for a naive ``now``.
    """
    _require_aware("now", now)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT capture_db_snapshot(%s)", [now])
        return cur.fetchone()[0]


def db_history_cleanup(*, now: dt.datetime, keep_days: int | None = None) -> int:
    """Delete snapshots older than ``keep_days`` (default ``conf.HISTORY_DAYS``, 14) before ``now``, with
    their rows, and statement baselines unseen as long (SQL ``cleanup_db_snapshots``).

    Returns the rows deleted (0 outside a platform context). Raises ValueError for a naive ``now``
    or a ``keep_days`` under 1.
    """
    _require_aware("now", now)
    keep_days = conf.HISTORY_DAYS if keep_days is None else keep_days
    if isinstance(keep_days, bool) or not isinstance(keep_days, int) or keep_days < 1:
        raise ValueError(f"keep_days: must be an integer of at least 1, got {keep_days!r}")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT cleanup_db_snapshots(%s)", [now - dt.timedelta(days=keep_days)])
        return cur.fetchone()[0]


# --- Alerts ---------------------------------------------------------------------------------

ALERT_SOURCE = AlertHistory.Source.DBMONITOR
PRIORITY_BY_SEVERITY: dict[str, str] = {
    AlertSeverity.WARNING: AlertPriority.MEDIUM,
    AlertSeverity.CRITICAL: AlertPriority.HIGH,
}


def finding_fingerprint(finding: selectors.Finding) -> str:
    """The alert fingerprint of a finding: ``"dbmonitor:" + sha256(check|object|severity)[:40]`` (50 chars).

    Stable while the same object breaches the same threshold level; a
    warning that turns critical is a new alert (the warning one resolves).
    """
    digest = hashlib.sha256(f"{finding.check}|{finding.object}|{finding.severity}".encode()).hexdigest()
    return f"dbmonitor:{digest[:40]}"


def db_checks_evaluate(*, now: dt.datetime, found: list[selectors.Finding] | None = None) -> dict:
    """Turn threshold breaches into alerts and monitoring events, and resolve those that cleared.

    ``found``: the findings to act on (default ``selectors.findings()``, the
    live checks with ``dbmonitor.conf`` thresholds). ``alerts.services.alerts_sync``
    fires an alert for each finding (organization None:
    platform-wide; source ``dbmonitor``; fingerprint ``finding_fingerprint``),
    so a breach that lasts stays one alert. A newly opened alert also records
    an unresolved monitoring event (event_type = the check, details with
    ``fingerprint``, ``object``, ``alert_id``, ``value``, ``threshold``,
    ``unit``). Every open platform-wide ``dbmonitor`` alert whose fingerprint is not
    among the findings is resolved by it (ends_at = ``now``), and its events with it.
    Runs in one transaction, in the caller's platform context.
    Returns ``{"findings": int, "fired": int, "repeated": int, "resolved": int}``.
    Raises ValueError for a naive ``now``.
    """
    _require_aware("now", now)
    found = selectors.findings() if found is None else found
    counts = {"findings": len(found), "fired": 0, "repeated": 0, "resolved": 0}
    with transaction.atomic():
        current: dict[str, selectors.Finding] = {}
        for finding in found:
            current.setdefault(finding_fingerprint(finding), finding)
        fired, resolved = alerts_sync(
            source=ALERT_SOURCE,
            organization_id=None,
            now=now,
            firing=[
                FireCandidate(
                    organization_id=None,
                    fingerprint=fingerprint,
                    source=ALERT_SOURCE,
                    title=f"Database {finding.check.replace('_', ' ')}: {finding.message}",
                    labels={
                        "alertname": f"db_{finding.check}",
                        "check": finding.check,
                        "object": finding.object[:200],
                        "severity": finding.severity,
                        "source": "dbmonitor",
                    },
                    annotations={
                        "summary": finding.message[:1000],
                        "description": selectors.CHECKS.get(finding.check, ""),
                    },
                    severity=finding.severity,
                    priority=PRIORITY_BY_SEVERITY.get(finding.severity, AlertPriority.MEDIUM),
                    starts_at=now,
                    value=finding.value,
                    threshold=finding.threshold,
                    threshold_reason=f"dbmonitor.conf ({finding.unit or 'flag'})",
                    description=finding.message,
                )
                for fingerprint, finding in current.items()
            ],
        )
        for candidate in fired:
            if not candidate.created:
                counts["repeated"] += 1
                continue
            counts["fired"] += 1
            finding = current[candidate.fingerprint]
            monitoring_event_record(
                event_type=finding.check,
                severity=finding.severity,
                message=finding.message[:2000],
                details={
                    "fingerprint": candidate.fingerprint,
                    "object": finding.object,
                    "alert_id": str(candidate.alert.pk),  # type: ignore[union-attr]  # filled by firing "value": finding.value, "threshold": finding.threshold,
                    "unit": finding.unit,
                    **finding.details,
                },
            )
        counts["resolved"] = len(resolved)
        MonitoringEvent.objects.filter(
            resolved=False, details__fingerprint__in=[alert.fingerprint for alert in resolved]
        ).update(resolved=True, resolved_at=now)
    return counts
