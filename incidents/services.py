"""Incident state changes: open (from an alert, by hand, from a critical error pattern), the
status lifecycle, assignment, notes and merging of duplicates.

Statuses (``IncidentStatus``) and the allowed moves::

    open ──► acknowledged ──► investigating ──► resolved ──► closed
      │            └──────────────────────────────▲   ▲        │
      └──► investigating / resolved ──────────────┘   │        │
    resolved, closed ──► open (reopen) ───────────────┘ ◄──────┘

Closing a ``p0`` or ``p1`` incident needs a published post-incident analysis.

Every function runs in the caller's tenant context (row-level security
applies) and in one transaction: the state change, its timeline row
(``incident_updates``) and its notifications commit together or not at all.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import AlertHistory
from alerts.notifications.services import notifications_enqueue

from .models import Incident, IncidentUpdate, PostIncidentAnalysis
from .notify import outbox_write, timeline_record_notifications


def incident_open_from_alert(*, alert: AlertHistory, now: dt.datetime | None = None) -> Incident:
    """Open (or return the already linked) incident for ``alert`` via SQL ``create_incident_from_alert``.

    ``alert``: an ``AlertHistory`` the current context can see (service and
    staff contexts see all; a vendor context its organization's).
    ``now``: the instant at which the wedding-day protocol is decided
    (aware datetime); default: the database's ``now()`` (the transaction
    start). Pass it from callers that take ``now`` themselves.

    Wedding-day protocol on for the alert's organization (local wedding day
    or local Saturday): a ``p0`` incident titled ``WEDDING DAY: <title>`` with
    ``wedding_impact = wedding_day_critical``, linked to the day's wedding
    (earliest ceremony; none on a Saturday without a wedding). Otherwise
    ``p1`` for critical/emergency alerts and ``p2`` for the rest. An alert
    without organization opens a platform-wide (staff only) incident.

    An alert whose group (same organization and ``group_key``, e.g. one
    Alertmanager group) already has an open incident through another open
    alert joins that incident (a timeline row, no new notifications), as
    one outage of several instances is one incident.

    Idempotent: an alert already linked returns its incident and enqueues
    nothing. A newly opened incident writes its ``incident.opened``
    notifications in the same transaction. Sets ``alert.incident_id``.
    Returns the Incident. Raises ``AlertHistory.DoesNotExist`` when the
    current context cannot see the alert.
    """
    with transaction.atomic():
        # Lock the alert first: the linked-or-not answer below stays true
        # until commit, so exactly one caller sees "newly created".
        locked = AlertHistory.objects.select_for_update().only("id", "incident_id").get(pk=alert.pk)
        if locked.incident_id is not None:
            alert.incident_id = locked.incident_id
            return Incident.objects.get(pk=locked.incident_id)
        joined = _join_group_incident(alert=alert, now=now or timezone.now())
        if joined is not None:
            return joined
        with connection.cursor() as cur:
            if now is None:
                cur.execute("SELECT create_incident_from_alert(%s)", [alert.pk])
            else:
                cur.execute("SELECT create_incident_from_alert(%s, %s)", [alert.pk, now])
            (incident_id,) = cur.fetchone()
        alert.incident_id = incident_id
        incident = Incident.objects.select_related("organization", "wedding").get(pk=incident_id)
        deliveries = notifications_enqueue(event="incident.opened", incident=incident, now=now)
        timeline_record_notifications(
            incident=incident,
            event="incident.opened",
            delivery_ids=[d.pk for d in deliveries],
            now=now or timezone.now(),
        )
        return incident


def _join_group_incident(*, alert: AlertHistory, now: dt.datetime) -> Incident | None:
    """Link ``alert`` to the open incident of another open alert of its group, if there is one; else None."""
    if not alert.group_key:
        return None
    incident_id = (
        AlertHistory.objects.filter(
            organization_id=alert.organization_id, group_key=alert.group_key,
            status__in=AlertHistory.OPEN_STATUSES, incident__status__in=Incident.OPEN_STATUSES,
        )
        .exclude(pk=alert.pk)
        .order_by("starts_at")
        .values_list("incident_id", flat=True)
        .first()
    )
    if incident_id is None:
        return None
    AlertHistory.objects.filter(pk=alert.pk).update(incident_id=incident_id)
    alert.incident_id = incident_id
    incident = Incident.objects.get(pk=incident_id)
    IncidentUpdate.objects.create(
        organization_id=incident.organization_id, incident=incident, kind=IncidentUpdate.Kind.ALERT,
        message=f'Alert "{alert.title}" of the same group joined this incident', created_at=now,
    )
    return incident


def _require_aware(now) -> None:
    if now is None or timezone.is_naive(now):
        raise ValidationError({"now": "an aware datetime is required"})


def _username(by) -> str:
    return by.get_username() if getattr(by, "pk", None) else "the system"


def _author(by):
    return by if getattr(by, "pk", None) else None


def _timeline(incident: Incident, *, kind: str, message: str, by, now: dt.datetime, vendor_visible: bool = False):
    return IncidentUpdate.objects.create(
        organization_id=incident.organization_id,
        incident=incident,
        kind=kind,
        message=message,
        author=_author(by),
        vendor_visible=vendor_visible,
        created_at=now,
    )


# Transition name -> (allowed from, to).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("open",), "acknowledged"),
    "investigate": (("open", "acknowledged"), "investigating"),
    "resolve": (("open", "acknowledged", "investigating"), "resolved"),
    "close": (("resolved",), "closed"),
    "reopen": (("resolved", "closed"), "open"),
}


def _transition(*, incident: Incident, by, now: dt.datetime, allowed_from: tuple[str, ...], to: str) -> Incident:
    _require_aware(now)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status not in allowed_from:
            allowed = ", ".join(allowed_from)
            raise ValidationError(
                {"status": f"cannot change an incident from {locked.status} to {to} (allowed from: {allowed})"}
            )
        if to == "closed" and locked.priority in ("p0", "p1") and locked.merged_into_id is None:
            published = PostIncidentAnalysis.objects.filter(
                incident_id=locked.pk, status=PostIncidentAnalysis.Status.PUBLISHED
            ).exists()
            if not published:
                raise ValidationError(
                    {"status": f"a {locked.priority} incident needs a published post-incident analysis to close"}
                )
        old = locked.status
        locked.status = to
        locked.updated_at = now
        fields = ["status", "updated_at"]
        if to == "acknowledged" or (to == "investigating" and locked.acknowledged_at is None):
            locked.acknowledged_at = now
            fields.append("acknowledged_at")
        elif to == "resolved":
            locked.resolved_at = now
            fields.append("resolved_at")
        elif to == "closed":
            locked.closed_at = now
            fields.append("closed_at")
        elif to == "open":  # reopen: the clock restarts, escalation starts over
            locked.acknowledged_at = locked.resolved_at = locked.closed_at = None
            locked.escalation_step = 0
            locked.last_escalated_at = now
            locked.escalation_level = "none"
            fields += [
                "acknowledged_at",
                "resolved_at",
                "closed_at",
                "escalation_step",
                "last_escalated_at",
                "escalation_level",
            ]
        locked.save(update_fields=fields)
        verb = "Reopened" if to == "open" else "Status changed"
        _timeline(
            locked,
            kind=IncidentUpdate.Kind.STATUS_CHANGE,
            message=f"{verb} from {old} to {to} by {_username(by)}",
            by=by,
            now=now,
            vendor_visible=True,
        )
        if to in ("acknowledged", "investigating"):
            _acknowledge_linked_alerts(locked, by=by, now=now)
        if to in ("acknowledged", "resolved"):
            outbox_write(event=f"incident.{to}", incident=locked, now=now)
    for field in fields:
        setattr(incident, field, getattr(locked, field))
    return incident


def _acknowledge_linked_alerts(incident: Incident, *, by, now: dt.datetime) -> None:
    """Acknowledging an incident acknowledges its firing or escalated alerts: their escalation stops too."""
    from alerts.services import alert_acknowledge

    for alert in AlertHistory.objects.filter(incident_id=incident.pk, status__in=["firing", "escalated"]):
        alert_acknowledge(alert=alert, by=by, now=now)


def incident_acknowledge(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Acknowledge an ``open`` incident: status ``acknowledged``, ``acknowledged_at = now``.

    ``by``: the acknowledging user (or None for the system); ``now``: an
    aware datetime. Writes a vendor-visible ``status_change`` timeline row,
    acknowledges the linked firing/escalated alerts (so neither escalates
    any further) and enqueues ``incident.acknowledged`` notifications.
    Raises ValidationError (key ``status``) unless the incident is open,
    (key ``now``) for a naive or missing ``now``. Returns ``incident``
    updated in place.
    """
    return _transition(incident=incident, by=by, now=now, allowed_from=("open",), to="acknowledged")


def incident_investigate(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Start investigating an open or acknowledged incident: status ``investigating``.

    An incident never acknowledged gets ``acknowledged_at = now`` (working
    on it acknowledges it; escalation stops). Raises ValidationError (key
    ``status``) from any other status. Returns ``incident`` updated in place.
    """
    return _transition(incident=incident, by=by, now=now, allowed_from=("open", "acknowledged"), to="investigating")


def incident_resolve(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Resolve an open, acknowledged or investigating incident: status ``resolved``, ``resolved_at = now``.

    ``acknowledged_at`` is left as it was (an incident resolved without
    acknowledgement has no MTTA). Writes a vendor-visible ``status_change``
    timeline row and enqueues ``incident.resolved`` notifications. Raises
    ValidationError (key ``status``) for a resolved or closed incident,
    (key ``now``) for a naive or missing ``now``. Returns ``incident``
    updated in place.
    """
    return _transition(
        incident=incident, by=by, now=now, allowed_from=("open", "acknowledged", "investigating"), to="resolved"
    )


def incident_close(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Close a resolved incident: status ``closed``, ``closed_at = now``.

    Raises ValidationError (key ``status``) unless resolved, or for a ``p0``
    or ``p1`` incident without a published post-incident analysis (merged
    duplicates excepted: their analysis is the surviving incident's).
    """
    return _transition(incident=incident, by=by, now=now, allowed_from=("resolved",), to="closed")


def incident_reopen(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Reopen a resolved or closed incident: status ``open`` again.

    Clears ``acknowledged_at``, ``resolved_at`` and ``closed_at`` (MTTA and
    MTTR then measure the reopened incident from its detection), restarts
    escalation (step 0, counted from ``now``). Raises ValidationError (key
    ``status``) for an incident still open, or one merged into another.
    """
    if incident.merged_into_id is not None:
        raise ValidationError(
            {"status": "a merged duplicate cannot be reopened; reopen the incident it was merged into"}
        )
    return _transition(incident=incident, by=by, now=now, allowed_from=("resolved", "closed"), to="open")


def incident_create(
    *,
    organization,
    title: str,
    by,
    now: dt.datetime,
    description: str = "",
    priority: str = Incident.Priority.P2,
    severity: str = "warning",
    wedding_impact: str = "none",
    wedding=None,
    commander=None,
    assignee=None,
) -> Incident:
    """Open an incident by hand (``source = manual``); returns it.

    ``organization``: an Organization or None (platform-wide); ``wedding``
    must belong to it. ``detected_at = created_at = now``. Writes the
    vendor-visible ``created`` timeline row and the ``incident.opened``
    notifications in the same transaction. Raises ValidationError naming
    the field: ``title`` empty, ``priority``/``severity``/``wedding_impact``
    unknown, ``wedding`` of another organization, ``commander``/``assignee``
    not staff, ``now`` naive.
    """
    from wedsync_ops.choices import AlertSeverity, WeddingImpactLevel

    _require_aware(now)
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "a title is required"
    if priority not in Incident.Priority.values:
        errors["priority"] = f"must be one of {', '.join(Incident.Priority.values)}"
    if severity not in AlertSeverity.values:
        errors["severity"] = f"must be one of {', '.join(AlertSeverity.values)}"
    if wedding_impact not in WeddingImpactLevel.values:
        errors["wedding_impact"] = f"must be one of {', '.join(WeddingImpactLevel.values)}"
    org_id = getattr(organization, "pk", None)
    if wedding is not None and wedding.organization_id != org_id:
        errors["wedding"] = "the wedding belongs to another organization"
    for name, user in (("commander", commander), ("assignee", assignee)):
        if user is not None and not user.is_staff:
            errors[name] = "must be an operations staff user"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        incident = Incident.objects.create(
            organization_id=org_id,
            title=title[:500],
            description=description,
            priority=priority,
            severity=severity,
            wedding_impact=wedding_impact,
            wedding=wedding,
            commander=commander,
            assignee=assignee,
            source=Incident.Source.MANUAL,
            detected_at=now,
            created_at=now,
            updated_at=now,
        )
        _timeline(
            incident,
            kind=IncidentUpdate.Kind.CREATED,
            message=f"Incident opened by {_username(by)}",
            by=by,
            now=now,
            vendor_visible=True,
        )
        deliveries = notifications_enqueue(event="incident.opened", incident=incident, now=now)
        timeline_record_notifications(
            incident=incident, event="incident.opened", delivery_ids=[d.pk for d in deliveries], now=now
        )
    return incident


def incident_open_from_error_pattern(
    *, organization_id, service: str, signature: str, message: str, occurrences: int, now: dt.datetime
) -> tuple[Incident, bool]:
    """Open an incident for a critical error pattern; returns ``(incident, created)``.

    One open incident per (organization, ``service``, ``signature``):
    while one is open (open, acknowledged, investigating) a repeat adds a
    timeline row ``alert`` with the new count and returns it (``created``
    False). Concurrent calls are serialised by a transaction advisory lock.
    New: ``source = error_pattern``, ``source_ref = "<service>:<signature>"``,
    severity ``critical``; ``p0`` titled ``WEDDING DAY: …`` with
    ``wedding_impact = wedding_day_critical`` when the organization's
    wedding-day protocol is on at ``now``, else ``p1``. Raises
    ValidationError for an empty ``service``/``signature`` or naive ``now``.
    """
    from alerts.services import wedding_day_protocol_active

    _require_aware(now)
    errors = {k: "required" for k, v in (("service", service), ("signature", signature)) if not (v or "").strip()}
    if errors:
        raise ValidationError(errors)
    ref = f"{service}:{signature}"[:200]
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"incident-ep:{organization_id}:{ref}"]
            )
        existing = (
            Incident.objects.filter(
                source=Incident.Source.ERROR_PATTERN, source_ref=ref, status__in=Incident.OPEN_STATUSES
            )
            .filter(Q(organization_id=organization_id) if organization_id else Q(organization__isnull=True))
            .first()
        )
        if existing is not None:
            _timeline(
                existing,
                kind=IncidentUpdate.Kind.ALERT,
                by=None,
                now=now,
                message=f"Error pattern {ref} seen again: {occurrences} occurrences",
            )
            return existing, False
        on, _reason = (
            wedding_day_protocol_active(organization_id=organization_id, at=now) if organization_id else (False, "")
        )
        title = f"Critical error pattern in {service}: {message.strip()[:300]}"
        incident = Incident.objects.create(
            organization_id=organization_id,
            title=(f"WEDDING DAY: {title}" if on else title)[:500],
            description=f"{occurrences} occurrences of {signature} in {service}.\n\n{message}",
            priority="p0" if on else "p1",
            severity="critical",
            wedding_impact="wedding_day_critical" if on else "none",
            source=Incident.Source.ERROR_PATTERN,
            source_ref=ref,
            detected_at=now,
            created_at=now,
            updated_at=now,
        )
        _timeline(
            incident,
            kind=IncidentUpdate.Kind.CREATED,
            by=None,
            now=now,
            vendor_visible=True,
            message=f"Incident opened from critical error pattern {ref} ({occurrences} occurrences)",
        )
        deliveries = notifications_enqueue(event="incident.opened", incident=incident, now=now)
        timeline_record_notifications(
            incident=incident, event="incident.opened", delivery_ids=[d.pk for d in deliveries], now=now
        )
    return incident, True


_UNCHANGED = object()


def incident_assign(*, incident: Incident, by, now: dt.datetime, assignee=_UNCHANGED, commander=_UNCHANGED) -> Incident:
    """Set the ``assignee`` and/or ``commander`` (a staff user, or None to clear); omitted ones stay.

    Writes one internal ``assignment`` timeline row per change. Raises
    ValidationError (key ``assignee``/``commander``) for a non-staff user.
    Returns ``incident`` updated in place.
    """
    _require_aware(now)
    changes = {k: v for k, v in (("assignee", assignee), ("commander", commander)) if v is not _UNCHANGED}
    errors = {k: "must be an operations staff user" for k, v in changes.items() if v is not None and not v.is_staff}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        for field, user in changes.items():
            if getattr(locked, f"{field}_id") == getattr(user, "pk", None):
                continue
            setattr(locked, field, user)
            who = user.get_username() if user is not None else "nobody"
            _timeline(
                locked,
                kind=IncidentUpdate.Kind.ASSIGNMENT,
                by=by,
                now=now,
                message=f"{field.capitalize()} set to {who} by {_username(by)}",
            )
        locked.updated_at = now
        locked.save(update_fields=["assignee", "commander", "updated_at"])
    incident.assignee_id, incident.commander_id = locked.assignee_id, locked.commander_id
    return incident


def incident_note_add(*, incident: Incident, by, message: str, now: dt.datetime, vendor_visible: bool = False):
    """Add a note to the timeline; ``vendor_visible`` notes appear on the organization's status page.

    Raises ValidationError (key ``message``) for an empty message. Returns the IncidentUpdate.
    """
    _require_aware(now)
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": "a note needs a message"})
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        return _timeline(
            locked, kind=IncidentUpdate.Kind.NOTE, message=message, by=by, now=now, vendor_visible=vendor_visible
        )


def incident_merge(*, duplicate: Incident, into: Incident, by, now: dt.datetime) -> Incident:
    """Merge ``duplicate`` into ``into``; returns ``into``.

    The duplicate's alerts move to ``into``; the duplicate is ``closed``
    (``closed_at = now``) with ``merged_into = into``; both timelines record
    the merge (vendor-visible). Raises ValidationError (key ``into``): same
    incident, different organizations, ``into`` closed or itself merged,
    ``duplicate`` already merged.
    """
    _require_aware(now)
    if duplicate.pk == into.pk:
        raise ValidationError({"into": "an incident cannot be merged into itself"})
    with transaction.atomic():
        locked = {
            i.pk: i for i in Incident.objects.select_for_update().filter(pk__in=[duplicate.pk, into.pk]).order_by("pk")
        }
        dup, target = locked[duplicate.pk], locked[into.pk]
        if dup.organization_id != target.organization_id:
            raise ValidationError({"into": "incidents of different organizations cannot be merged"})
        if dup.merged_into_id is not None:
            raise ValidationError({"into": "this incident is already merged"})
        if target.merged_into_id is not None or target.status == "closed":
            raise ValidationError({"into": "cannot merge into a closed or merged incident"})
        moved = AlertHistory.objects.filter(incident_id=dup.pk).update(incident_id=target.pk)
        old = dup.status
        dup.merged_into = target
        dup.status = "closed"
        dup.closed_at = now
        dup.updated_at = now
        dup.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
        _timeline(
            dup,
            kind=IncidentUpdate.Kind.MERGE,
            by=by,
            now=now,
            vendor_visible=True,
            message=f'Merged into "{target.title}" as a duplicate by {_username(by)} (was {old})',
        )
        _timeline(
            target,
            kind=IncidentUpdate.Kind.MERGE,
            by=by,
            now=now,
            vendor_visible=True,
            message=f'Duplicate "{dup.title}" merged in by {_username(by)} ({moved} alert(s) moved)',
        )
        target.updated_at = now
        target.save(update_fields=["updated_at"])
    return target
