"""State changes of database monitoring: events recorded, resolved and cleaned up.

Services run in the caller's tenant context (a request's staff context, or a
task's ``service_context()``); ``monitoring_events`` is staff-only, so in any
other context they record nothing (an error) and change nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db import connection
from django.db.models.functions import Now
from psycopg.types.json import Jsonb

from wedsync_ops.choices import AlertSeverity

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
            [event_type, severity, message, Jsonb(details)],
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
