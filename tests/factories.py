"""Builders for tests: the objects most tests need, each in the tenant context it must be written in."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wedsync_ops.tenancy.context import service_context


def notify(event: str, *, alert=None, incident=None, now: dt.datetime | None = None, **kwargs) -> list:
    """Enqueue ``event`` about an alert or an incident the way the portal does (routing included).

    Alerts go through ``alerts.notify.alert_notify``, incidents through ``incidents.notify.incident_notify``;
    returns the deliveries written. Runs in a service context.
    """
    now = now or timezone.now()
    with service_context():
        if incident is not None:
            from incidents.notify import incident_notify

            return incident_notify(event=event, incident=incident, now=now, **kwargs)
        from alerts.notify import alert_notify

        return alert_notify(event=event, alert=alert, now=now, **kwargs)
