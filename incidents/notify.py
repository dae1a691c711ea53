"""The incidents app's notifications: an incident's payload and routing labels, and its timeline record.

Every incident event (opened, acknowledged, escalated per step, resolved, reopened) goes through
``notifications.services.notification_enqueue``, the one outbox writer, so routing (matchers, severity,
organization, wedding-day emergency channels only while the protocol is on) applies to all of them.
Routing sees the labels of the incident's first alert plus its ``severity``, ``priority`` and
``organization``. Each notification writes an internal ``notification`` timeline row naming the channels
and keeping the delivery ids (``IncidentUpdate.deliveries``), so the incident page shows each
delivery's outcome (sent, retrying, failed with its reason).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from alerts.models import AlertHistory
from notifications.services import notification_enqueue, notifications_cancel
from wedsync_ops.tenancy.context import service_context

from .models import Incident, IncidentUpdate


def portal_url(path: str) -> str:
    """``settings.PORTAL_BASE_URL`` + ``path`` (an absolute URL for notifications)."""
    return getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def incident_labels(incident: Incident) -> dict[str, str]:
    """The labels routing matches for an incident: its first alert's labels plus severity, priority, organization."""
    labels = AlertHistory.objects.filter(incident_id=incident.pk).order_by("starts_at").values_list(
        "labels", flat=True
    ).first() or {}
    result = {str(k): str(v) for k, v in labels.items()}
    result.setdefault("severity", str(incident.severity))
    result.setdefault("priority", str(incident.priority))
    if incident.organization_id is not None and "organization" not in result:
        result["organization"] = incident.organization.slug
    return result


def incident_payload(*, event: str, incident: Incident, labels: dict) -> dict:
    """The JSON body of an incident notification (``notifications.services`` contract).

    Shape (times ISO 8601 with offset)::

        {"event", "kind": "incident", "id": uuid, "title", "status", "severity", "priority",
         "organization": slug | None, "labels": {str: str}, "starts_at": detected_at,
         "url": "/ops/incidents/<id>/" (absolute), "incident_url": the same,
         "organization_url": "/org/<slug>/" | None, "wedding_impact": "none" … "wedding_day_critical",
         "wedding": {"id", "couple_name", "wedding_date" (local), "venue_name", "ceremony_time" | None} | None,
         "runbook_url": the matching runbook's page | None}
    """
    from .selectors import runbook_for_incident

    slug = incident.organization.slug if incident.organization_id else None
    wedding = None
    if incident.wedding_id is not None:
        w = incident.wedding
        wedding = {
            "id": str(w.pk), "couple_name": w.couple_name, "wedding_date": w.wedding_date.isoformat(),
            "venue_name": w.venue_name, "ceremony_time": w.ceremony_time.isoformat() if w.ceremony_time else None,
        }
    runbook = runbook_for_incident(incident)
    url = portal_url(f"/ops/incidents/{incident.pk}/")
    return {
        "kind": "incident",
        "id": str(incident.pk),
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity,
        "priority": incident.priority,
        "organization": slug,
        "labels": {k: v for k, v in labels.items() if k not in ("severity", "priority", "organization")},
        "starts_at": incident.detected_at.isoformat() if incident.detected_at else None,
        "url": url,
        "incident_url": url,
        "organization_url": portal_url(f"/org/{slug}/") if slug else None,
        "wedding_impact": incident.wedding_impact,
        "wedding": wedding,
        "runbook_url": portal_url(f"/ops/runbooks/{runbook.pk}/") if runbook else None,
    }


def incident_notify(
    *, event: str, incident: Incident, now: dt.datetime, step: int = 0, extra: dict | None = None,
    record: bool = True,
) -> list:
    """Write the notifications of ``event`` about ``incident`` through routing; returns the deliveries.

    ``step``: the escalation step (``incident.escalated``). ``extra`` is merged into the payload.
    Writes a ``notification`` timeline row ("Notified 2 channel(s) of incident.opened: ops, pager")
    keeping the delivery ids, unless ``record`` is False (the escalation step writes its own row).
    Runs in the caller's transaction, the rows in a service context.
    """
    with service_context():
        fresh = Incident.objects.select_related("organization", "wedding").get(pk=incident.pk)
        labels = incident_labels(fresh)
        payload = incident_payload(event=event, incident=fresh, labels=labels)
        payload.update(extra or {})
        deliveries, route = notification_enqueue(
            event=event, organization_id=fresh.organization_id, labels=labels, payload=payload, now=now,
            incident_id=fresh.pk, step=step,
        )
        if deliveries and record:
            text = f"Notified {len(deliveries)} channel(s) of {event}: {channel_names(deliveries)}"
            if route.wedding_day.on and any(d.channel.wedding_day_emergency for d in deliveries):
                text += f" (wedding-day emergency channels included: {route.wedding_day.reason})"
            IncidentUpdate.objects.create(
                organization_id=fresh.organization_id, incident_id=fresh.pk, kind=IncidentUpdate.Kind.NOTIFICATION,
                message=text, vendor_visible=False, created_at=now, deliveries=[str(d.pk) for d in deliveries],
            )
    return deliveries


def channel_names(deliveries) -> str:
    """``"ops, pager (held: channel disabled)"``: the channels of ``deliveries``, in order."""
    return ", ".join(
        f"{d.channel.name}{' (held: channel disabled)' if d.status == 'held' else ''}" for d in deliveries
    )


def incident_pages_cancel(*, incident: Incident, reason: str, now: dt.datetime) -> int:
    """Cancel the incident's escalation pages not yet sent (it was acknowledged, resolved or muted)."""
    return notifications_cancel(reason=reason, now=now, incident_ids=[incident.pk], events=("incident.escalated",))
