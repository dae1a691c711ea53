"""Incident notifications beyond ``incident.opened``: acknowledged, resolved, escalated; alert escalation.

``alerts.notifications.services.notifications_enqueue`` accepts only the
events of ``NotificationDelivery.Event`` (alert.firing, alert.resolved,
incident.opened), so the incidents app writes its own outbox rows here, into
the same ``notification_deliveries`` table, in the caller's transaction,
delivered by the same worker and sweep (``deliver_notification``,
``deliver_pending``).

Channels: the enabled channels of the object's organization plus the
platform channels (organization NULL), exactly as ``notifications_enqueue``.
Payload: ``notification_payload`` of the alerts app plus
``incident_url`` (the staff page ``/ops/incidents/<id>/``), ``runbook_url``
(the matched runbook's page, or None) and, for escalations,
``escalation`` (``{"step", "of", "level", "policy", "wedding_day",
"contacts": [{"name", "level", "email", "phone", "slack",
"wedding_day_emergency"}]}``): the receiving pager pages those people.

One row per (channel, stored event, alert, incident) is the outbox's unique
constraint, so every escalation step stores its event as
``incident.escalated.<step>`` (the payload's ``event`` is
``incident.escalated``): each step notifies once, a repeat of the same step
adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.db import connection, transaction

from alerts.notifications.services import notification_payload
from wedsync_ops.tenancy.context import service_context

logger = logging.getLogger(__name__)

_INSERT = """
INSERT INTO notification_deliveries
    (organization_id, channel_id, event, alert_id, incident_id, payload, status, attempts,
     next_attempt_at, last_error, created_at)
SELECT c.organization_id, c.id, %(event)s, %(alert_id)s, %(incident_id)s, %(payload)s::jsonb, 'pending', 0,
       %(now)s, '', statement_timestamp()
  FROM notification_channels c
 WHERE c.enabled AND (c.organization_id IS NULL OR c.organization_id = %(org_id)s)
 ORDER BY c.id
ON CONFLICT ON CONSTRAINT notification_delivery_once DO NOTHING
RETURNING id
"""


def portal_url(path: str) -> str:
    """``settings.PORTAL_BASE_URL`` + ``path`` (an absolute URL for notifications)."""
    return getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def outbox_write(
    *,
    event: str,
    now: dt.datetime,
    incident=None,
    alert=None,
    stored_event: str | None = None,
    extra: dict | None = None,
) -> list:
    """Write one pending delivery per matching channel; returns the new delivery ids (list of uuid).

    ``event``: the payload's event name (``incident.acknowledged``,
    ``incident.resolved``, ``incident.escalated``, ``alert.escalated``);
    ``stored_event``: the value kept in ``notification_deliveries.event``
    (default ``event``; at most 30 characters). ``extra`` is merged into the
    payload. Runs in a service context (a vendor caller cannot see platform
    channels) nested in the caller's transaction; the deliveries are queued
    after commit, and a broker error only logs (the sweep sends them).
    """
    from .selectors import runbook_for_incident

    obj = incident if incident is not None else alert
    with service_context():
        payload = notification_payload(event=event, alert=alert, incident=incident)
        if incident is not None:
            payload["incident_url"] = portal_url(f"/ops/incidents/{incident.pk}/")
            runbook = runbook_for_incident(incident)
            payload["runbook_url"] = portal_url(f"/ops/runbooks/{runbook.pk}/") if runbook else None
        payload.update(extra or {})
        with connection.cursor() as cur:
            cur.execute(
                _INSERT,
                {
                    "event": (stored_event or event)[:30],
                    "alert_id": alert.pk if alert is not None else None,
                    "incident_id": incident.pk if incident is not None else None,
                    "payload": json.dumps(payload, default=str),
                    "now": now,
                    "org_id": obj.organization_id,
                },
            )
            ids = [row[0] for row in cur.fetchall()]
    if ids:
        if incident is not None:
            timeline_record_notifications(incident=incident, event=event, delivery_ids=ids, now=now)
        transaction.on_commit(lambda: _publish(ids), robust=True)
    return ids


def timeline_record_notifications(*, incident, event: str, delivery_ids: list, now: dt.datetime) -> None:
    """Write an internal ``notification`` timeline row naming the channels notified of ``event`` (if any)."""
    from alerts.models import NotificationDelivery

    from .models import IncidentUpdate

    if not delivery_ids:
        return
    with service_context():
        names = sorted(NotificationDelivery.objects.filter(pk__in=delivery_ids).values_list("channel__name", flat=True))
        IncidentUpdate.objects.create(
            organization_id=incident.organization_id,
            incident_id=incident.pk,
            kind="notification",
            message=f"Notified {len(names)} channel(s) of {event}: {', '.join(names)}",
            vendor_visible=False,
            created_at=now,
        )


def _publish(ids: list) -> None:
    from alerts.notifications.tasks import deliver_notification

    try:
        for delivery_id in ids:
            deliver_notification.delay(str(delivery_id))
    except Exception:  # broker down: the deliver_pending sweep sends them
        logger.warning("could not queue %d incident notification(s); the sweep will send them", len(ids))
