"""Incident state changes: the status lifecycle, opening by hand, assignment, notes and merging.

Statuses (``IncidentStatus``) and the allowed moves::

    open ──► acknowledged ──► investigating ──► resolved ──► closed
      │            └──────────────────────────────▲   ▲        │
      └──► investigating / resolved ──────────────┘   │        │
    resolved, closed ──► open (reopen) ───────────────┘ ◄──────┘

Closing a ``p0`` or ``p1`` incident needs a published post-incident analysis. Resolving or closing an
incident resolves its open alerts (externally-sourced ones are marked "resolved in portal", so a
redelivery of the same firing does not reopen them); acknowledging it acknowledges them.

Every function runs in the caller's tenant context (row-level security applies) and in one
transaction: the state change, its timeline row (``incident_updates``) and its notifications (through
``incidents.notify``, so routing applies) commit together or not at all.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.models import AlertHistory

from ..models import Incident, IncidentUpdate, PostIncidentAnalysis
from ..notify import incident_notify, incident_pages_cancel


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


def _transition(
    *,
    incident: Incident,
    by,
    now: dt.datetime,
    allowed_from: tuple[str, ...],
    to: str,
    reason: str = "",
    via: str = "",
    by_name: str = "",
) -> Incident:
    """Move ``incident`` to ``to`` (see the module docstring); ``reason`` is added to the timeline row.

    ``via`` says how the person acted (e.g. "the one-time link of their page"), ``by_name`` names a
    person without a login (an escalation contact) when ``by`` is None.
    """
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
            locked.last_escalated_at = None
            locked.escalation_clock_at = now
            locked.muted_at = None
            locked.escalation_level = "none"
            fields += [
                "acknowledged_at",
                "resolved_at",
                "closed_at",
                "escalation_step",
                "last_escalated_at",
                "escalation_clock_at",
                "muted_at",
                "escalation_level",
            ]
        locked.save(update_fields=fields)
        verb = "Reopened" if to == "open" else "Status changed"
        who = by_name if by_name and not getattr(by, "pk", None) else _username(by)
        _timeline(
            locked,
            kind=IncidentUpdate.Kind.STATUS_CHANGE,
            message=f"{verb} from {old} to {to} by {who}"
            + (f" via {via}" if via else "")
            + (f": {reason}" if reason else ""),
            by=by,
            now=now,
            vendor_visible=True,
        )
        if to in ("acknowledged", "investigating"):
            _acknowledge_linked_alerts(locked, by=by, now=now)
        if to != "open":
            incident_pages_cancel(incident=locked, reason=f"the incident was {to} before this was sent", now=now)
        if to in ("resolved", "closed"):
            _resolve_linked_alerts(locked, by=by, now=now)
        if to in ("acknowledged", "resolved"):
            incident_notify(event=f"incident.{to}", incident=locked, now=now)
        elif to == "open":
            incident_notify(event="incident.reopened", incident=locked, now=now)
    for field in fields:
        setattr(incident, field, getattr(locked, field))
    return incident


def _resolve_linked_alerts(incident: Incident, *, by, now: dt.datetime) -> None:
    """Resolving (or closing) an incident resolves its open alerts; a person's resolution is kept "in portal".

    ``alerts.services.alert_resolve`` with ``in_portal`` for externally-sourced alerts resolved by a
    person, so Alertmanager's next redelivery of the same firing does not reopen them; a new
    ``startsAt`` (a new problem) still does.
    """
    from alerts.services import EXTERNAL_SOURCES, alert_resolve

    for alert in AlertHistory.objects.filter(incident_id=incident.pk, status__in=AlertHistory.OPEN_STATUSES):
        alert_resolve(alert=alert, ends_at=now, now=now, by=by, in_portal=alert.source in EXTERNAL_SOURCES)


def _acknowledge_linked_alerts(incident: Incident, *, by, now: dt.datetime) -> None:
    """Acknowledging an incident acknowledges its firing or escalated alerts: their escalation stops too."""
    from alerts.services import alert_acknowledge

    for alert in AlertHistory.objects.filter(incident_id=incident.pk, status__in=["firing", "escalated"]):
        alert_acknowledge(alert=alert, by=by, now=now)


def incident_acknowledge(*, incident: Incident, by, now: dt.datetime, via: str = "", by_name: str = "") -> Incident:
    """Acknowledge an ``open`` incident: status ``acknowledged``, ``acknowledged_at = now``.

    ``by``: the acknowledging user (or None for the system); ``now``: an
    aware datetime. Writes a vendor-visible ``status_change`` timeline row,
    acknowledges the linked firing/escalated alerts (so neither escalates
    any further) and enqueues ``incident.acknowledged`` notifications.
    Raises ValidationError (key ``status``) unless the incident is open,
    (key ``now``) for a naive or missing ``now``. Returns ``incident``
    updated in place. ``via``/``by_name``: how and by whom, for the
    timeline (a page's link, an SMS reply, a Slack button; a contact
    without a login).
    """
    return _transition(
        incident=incident, by=by, now=now, allowed_from=("open",), to="acknowledged", via=via, by_name=by_name
    )


def incident_investigate(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Start investigating an open or acknowledged incident: status ``investigating``.

    An incident never acknowledged gets ``acknowledged_at = now`` (working
    on it acknowledges it; escalation stops). Raises ValidationError (key
    ``status``) from any other status. Returns ``incident`` updated in place.
    """
    return _transition(incident=incident, by=by, now=now, allowed_from=("open", "acknowledged"), to="investigating")


def incident_resolve(*, incident: Incident, by, now: dt.datetime, via: str = "") -> Incident:
    """Resolve an open, acknowledged or investigating incident: status ``resolved``, ``resolved_at = now``.

    ``acknowledged_at`` is left as it was (an incident resolved without
    acknowledgement has no MTTA). Writes a vendor-visible ``status_change``
    timeline row, resolves its open alerts (``_resolve_linked_alerts``),
    cancels its pending escalation pages and enqueues ``incident.resolved``
    notifications through routing. Raises
    ValidationError (key ``status``) for a resolved or closed incident,
    (key ``now``) for a naive or missing ``now``. Returns ``incident``
    updated in place.
    """
    return _transition(
        incident=incident,
        by=by,
        now=now,
        allowed_from=("open", "acknowledged", "investigating"),
        to="resolved",
        via=via,
    )


def incident_close(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Close a resolved incident: status ``closed``, ``closed_at = now``; any alert still open is resolved.

    Raises ValidationError (key ``status``) unless resolved, or for a ``p0``
    or ``p1`` incident without a published post-incident analysis (merged
    duplicates excepted: their analysis is the surviving incident's).
    """
    return _transition(incident=incident, by=by, now=now, allowed_from=("resolved",), to="closed")


def incident_reopen(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Reopen a resolved or closed incident: status ``open`` again.

    Clears ``acknowledged_at``, ``resolved_at`` and ``closed_at`` (MTTA and
    MTTR then measure the reopened incident from its detection), restarts
    escalation (step 0, counted from ``now``) and notifies ``incident.reopened``.
    Raises ValidationError (key
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
            escalation_clock_at=now,
        )
        _timeline(
            incident,
            kind=IncidentUpdate.Kind.CREATED,
            message=f"Incident opened by {_username(by)}",
            by=by,
            now=now,
            vendor_visible=True,
        )
        incident_notify(event="incident.opened", incident=incident, now=now)
    return incident


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
        incident_pages_cancel(incident=dup, reason="merged into another incident", now=now)
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
