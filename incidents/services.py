"""Incident state changes: open from an alert, acknowledge, resolve.

Every function runs in the caller's tenant context (row-level security
applies) and in one transaction: the state change, its timeline row
(``incident_updates``) and its notifications commit together or not at all.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerts.models import AlertHistory
from alerts.notifications.services import notifications_enqueue

from .models import Incident, IncidentUpdate


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
        with connection.cursor() as cur:
            if now is None:
                cur.execute("SELECT create_incident_from_alert(%s)", [alert.pk])
            else:
                cur.execute("SELECT create_incident_from_alert(%s, %s)", [alert.pk, now])
            (incident_id,) = cur.fetchone()
        alert.incident_id = incident_id
        incident = Incident.objects.select_related("organization", "wedding").get(pk=incident_id)
        notifications_enqueue(event="incident.opened", incident=incident, now=now)
        return incident


def _transition(*, incident: Incident, by, now: dt.datetime, allowed_from: tuple[str, ...], to: str) -> Incident:
    if now is None or timezone.is_naive(now):
        raise ValidationError({"now": "an aware datetime is required"})
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status not in allowed_from:
            allowed = ", ".join(allowed_from)
            raise ValidationError(
                {"status": f"cannot change an incident from {locked.status} to {to} (allowed from: {allowed})"}
            )
        old = locked.status
        locked.status = to
        locked.updated_at = now
        fields = ["status", "updated_at"]
        if to == "acknowledged":
            locked.acknowledged_at = now
            fields.append("acknowledged_at")
        elif to == "resolved":
            locked.resolved_at = now
            fields.append("resolved_at")
        locked.save(update_fields=fields)
        who = getattr(by, "get_username", lambda: "the system")() if by is not None else "the system"
        IncidentUpdate.objects.create(
            organization_id=locked.organization_id,
            incident=locked,
            kind=IncidentUpdate.Kind.STATUS_CHANGE,
            message=f"Status changed from {old} to {to} by {who}",
            author=by if getattr(by, "pk", None) else None,
            vendor_visible=True,
            created_at=now,
        )
    for field in fields:
        setattr(incident, field, getattr(locked, field))
    return incident


def incident_acknowledge(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Acknowledge an ``open`` incident: status ``acknowledged``, ``acknowledged_at = now``.

    ``by``: the acknowledging user (or None for the system); ``now``: an
    aware datetime. Writes a vendor-visible ``status_change`` timeline row.
    Raises ValidationError (key ``status``) unless the incident is open,
    (key ``now``) for a naive or missing ``now``. Returns ``incident``
    updated in place.
    """
    return _transition(incident=incident, by=by, now=now, allowed_from=("open",), to="acknowledged")


def incident_resolve(*, incident: Incident, by, now: dt.datetime) -> Incident:
    """Resolve an open, acknowledged or investigating incident: status ``resolved``, ``resolved_at = now``.

    ``acknowledged_at`` is left as it was (an incident resolved without
    acknowledgement has no MTTA). Writes a vendor-visible ``status_change``
    timeline row. Raises ValidationError (key ``status``) for a resolved or
    closed incident, (key ``now``) for a naive or missing ``now``. Returns
    ``incident`` updated in place.
    """
    return _transition(
        incident=incident, by=by, now=now, allowed_from=("open", "acknowledged", "investigating"), to="resolved"
    )
