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
from notifications.services import notifications_cancel
from wedsync_ops.tenancy.context import service_context

from .models import Incident, IncidentUpdate


def portal_url(path: str) -> str:
    """``settings.PORTAL_BASE_URL`` + ``path`` (an absolute URL for notifications)."""
    return getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def incident_labels(incident: Incident) -> dict[str, str]:
    """The labels routing matches for an incident: its first alert's labels plus severity, priority, organization."""
    labels = (
        AlertHistory.objects.filter(incident_id=incident.pk)
        .order_by("starts_at")
        .values_list("labels", flat=True)
        .first()
        or {}
    )
    return _labels(incident, labels)


def _labels(incident: Incident, labels: dict) -> dict[str, str]:
    result = {str(k): str(v) for k, v in labels.items()}
    result.setdefault("severity", str(incident.severity))
    result.setdefault("priority", str(incident.priority))
    if incident.organization_id is not None and "organization" not in result:
        result["organization"] = incident.organization.slug
    return result


def incident_payload(*, event: str, incident: Incident, labels: dict, runbooks=None) -> dict:
    """The JSON body of an incident notification (``notifications.services`` contract).

    Shape (times ISO 8601 with offset)::

        {"event", "kind": "incident", "id": uuid, "title", "status", "severity", "priority",
         "organization": slug | None, "labels": {str: str}, "starts_at": detected_at,
         "url": "/ops/incidents/<id>/" (absolute), "incident_url": the same,
         "organization_url": "/org/<slug>/" | None, "wedding_impact": "none" … "wedding_day_critical",
         "wedding": {"id", "couple_name", "wedding_date" (local), "venue_name", "ceremony_time" | None} | None,
         "runbook_url": the matching runbook's page | None}

    ``runbooks``: a ``selectors.RunbookIndex`` when many payloads are built at once (else one query).
    """
    from .selectors import RunbookIndex

    slug = incident.organization.slug if incident.organization_id else None
    wedding = None
    if incident.wedding_id is not None:
        w = incident.wedding
        wedding = {
            "id": str(w.pk),
            "couple_name": w.couple_name,
            "wedding_date": w.wedding_date.isoformat(),
            "venue_name": w.venue_name,
            "ceremony_time": w.ceremony_time.isoformat() if w.ceremony_time else None,
        }
    runbooks = runbooks or RunbookIndex(organization_ids=[incident.organization_id])
    matches = runbooks.matching(labels=labels, organization_id=incident.organization_id)
    runbook = matches[0] if matches else None
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
    *,
    event: str,
    incident: Incident,
    now: dt.datetime,
    step: int = 0,
    extra: dict | None = None,
    record: bool = True,
    recipients=(),
    channels=(),
) -> list:
    """Write the notifications of ``event`` about ``incident`` through routing; returns the deliveries.

    ``step``: the escalation step (``incident.escalated``). ``extra`` is merged into the payload.
    Writes a ``notification`` timeline row ("Notified 2 channel(s) of incident.opened: ops, pager")
    keeping the delivery ids, unless ``record`` is False (the escalation step writes its own row).
    ``recipients`` (``notifications.services.Recipient``: pages to people) and ``channels`` (channel
    ids notified whatever routing says) come from an escalation step's target.
    Runs in the caller's transaction, the rows in a service context. ``incidents_notify`` of one.
    """
    return incidents_notify(
        event=event,
        incidents=[incident],
        now=now,
        step=step,
        extra=extra,
        record=record,
        targets={incident.pk: (tuple(recipients), tuple(channels))},
    )[incident.pk]


def incidents_notify(
    *,
    event: str,
    incidents: list,
    now: dt.datetime,
    step: int = 0,
    extra: dict | None = None,
    record: bool = True,
    first_labels: dict | None = None,
    protocols: dict | None = None,
    targets: dict | None = None,
) -> dict:
    """``incident_notify`` for many incidents at once (set-based); returns ``{incident_id: deliveries}``.

    A fixed number of queries whatever the number of incidents: the incidents with their organization
    and wedding, their first alerts' labels (unless ``first_labels``: ``{incident_id: labels}``), the
    runbooks, one routing load and one outbox insert (``notifications_enqueue_many``), one insert of
    timeline rows (``protocols``: the organizations' ``WeddingDay`` at ``now`` when the caller has them).
    ``targets``: ``{incident_id: (recipients, channel ids)}`` that an escalation step pages besides routing.
    """
    from notifications.services import NotificationRequest, notifications_enqueue_many

    from .selectors import RunbookIndex

    with service_context():
        fresh = list(
            Incident.objects.select_related("organization", "wedding").filter(pk__in=[i.pk for i in incidents])
        )
        if first_labels is None:
            first_labels = {}
            for incident_id, labels in (
                AlertHistory.objects.filter(incident_id__in=[i.pk for i in fresh])
                .order_by("incident_id", "starts_at")
                .distinct("incident_id")
                .values_list("incident_id", "labels")
            ):
                first_labels[incident_id] = labels
        runbooks = RunbookIndex(organization_ids={i.organization_id for i in fresh})
        requests = []
        for incident in fresh:
            labels = _labels(incident, first_labels.get(incident.pk) or {})
            payload = incident_payload(event=event, incident=incident, labels=labels, runbooks=runbooks)
            payload.update(extra or {})
            recipients, channels = (targets or {}).get(incident.pk, ((), ()))
            requests.append(
                NotificationRequest(
                    event=event,
                    organization_id=incident.organization_id,
                    labels=labels,
                    payload=payload,
                    incident_id=incident.pk,
                    step=step,
                    recipients=recipients,
                    channels=channels,
                )
            )
        notifications_enqueue_many(requests, now=now, protocols=protocols)
        rows = []
        for incident, request in zip(fresh, requests, strict=True):
            deliveries = request.deliveries
            if deliveries and record:
                text = f"Notified {len(deliveries)} channel(s) of {event}: {channel_names(deliveries)}"
                if request.route.wedding_day.on and any(
                    d.channel and d.channel.wedding_day_emergency for d in deliveries
                ):
                    text += f" (wedding-day emergency channels included: {request.route.wedding_day.reason})"
                rows.append(
                    IncidentUpdate(
                        organization_id=incident.organization_id,
                        incident_id=incident.pk,
                        kind=IncidentUpdate.Kind.NOTIFICATION,
                        message=text,
                        vendor_visible=False,
                        created_at=now,
                        deliveries=[str(d.pk) for d in deliveries],
                    )
                )
        IncidentUpdate.objects.bulk_create(rows)
    result = {i.pk: [] for i in incidents}
    for incident, request in zip(fresh, requests, strict=True):
        result[incident.pk] = request.deliveries
    return result


def channel_names(deliveries) -> str:
    """``"ops, pager (held: channel disabled)"``: the channels of ``deliveries``, in order."""
    return ", ".join(f"{d.target_label}{' (held: channel disabled)' if d.status == 'held' else ''}" for d in deliveries)


def incident_pages_cancel(*, incident: Incident, reason: str, now: dt.datetime) -> int:
    """Cancel the incident's escalation pages not yet sent (it was acknowledged, resolved or muted)."""
    return notifications_cancel(reason=reason, now=now, incident_ids=[incident.pk], events=("incident.escalated",))
