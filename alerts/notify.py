"""The alerts app's notifications: what an alert's payload and routing labels are, and when it is sent.

Every alert event goes through ``notifications.services.notification_enqueue`` (the one outbox writer,
with routing); this module only builds the payload (``alert_payload``), the labels routing matches on
(``alerts.suppression.alert_label_set``: the alert's labels plus severity, priority and organization)
and Alertmanager's grouping timers for alerts of our own rules (``group_send_at``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from notifications import selectors as notification_selectors
from notifications.services import notification_enqueue, notifications_cancel, notifications_repeat_due
from wedsync_ops.tenancy.context import service_context

from .models import AlertHistory
from .suppression import alert_label_set


def portal_url(path: str) -> str:
    """``settings.PORTAL_BASE_URL`` + ``path``: an absolute link for a notification."""
    return getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def _alert_url(alert: AlertHistory) -> str:
    try:
        return portal_url(reverse("admin:alerts_alerthistory_change", args=[alert.pk]))
    except NoReverseMatch:
        return portal_url("/admin/alerts/alerthistory/")


def _runbook_url(alert: AlertHistory) -> str | None:
    """The alert's ``runbook_url`` annotation, its rule's, else the best matching runbook's page, else None."""
    explicit = (alert.annotations or {}).get("runbook_url") or (alert.rule.runbook_url if alert.rule_id else "")
    if explicit:
        return explicit
    from incidents.selectors import runbooks_matching

    matches = runbooks_matching(labels=alert.labels or {}, organization_id=alert.organization_id)
    return portal_url(f"/ops/runbooks/{matches[0].pk}/") if matches else None


def alert_payload(*, event: str, alert: AlertHistory, extra: dict | None = None) -> dict:
    """The JSON body of an alert notification (``notifications.services`` contract).

    Shape (times ISO 8601 with offset)::

        {"event", "kind": "alert", "id": uuid, "title", "status", "severity", "priority",
         "organization": slug | None, "labels": {str: str}, "starts_at", "ends_at": time | None,
         "url": the alert's ops page, "organization_url": "/org/<slug>/" | None,
         "alert_incident_id": uuid | None, "generator_url": str, "runbook_url": str | None,
         "group_key": Alertmanager's group key (when it has one),
         "grouped": true (alerts of our own rules with a group key: sent as one per group)}

    Absolute URLs start with ``settings.PORTAL_BASE_URL``. ``extra`` is merged in.
    """
    slug = alert.organization.slug if alert.organization_id and alert.organization else None
    payload = {
        "kind": "alert",
        "id": str(alert.pk),
        "title": alert.title,
        "status": alert.status,
        "severity": alert.severity,
        "priority": alert.priority,
        "organization": slug,
        "labels": alert.labels,
        "starts_at": alert.starts_at.isoformat() if alert.starts_at else None,
        "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
        "url": _alert_url(alert),
        "organization_url": portal_url(f"/org/{slug}/") if slug else None,
        "alert_incident_id": str(alert.incident_id) if alert.incident_id else None,
        "generator_url": alert.generator_url,
        "runbook_url": _runbook_url(alert),
    }
    if alert.group_key:
        payload["group_key"] = alert.group_key
    if _grouped(alert):
        payload["grouped"] = True
    payload.update(extra or {})
    return payload


def _grouped(alert: AlertHistory) -> bool:
    return alert.source == AlertHistory.Source.RULE and bool(alert.group_key)


def delivery_group(alert: AlertHistory) -> str:
    """The outbox's group of an alert's notifications: its organization and group key (deliveries belong to
    their channel's organization, so the alert's must be part of the key)."""
    return f"{alert.organization_id or 'platform'}/{alert.group_key}"[:500]


def group_send_at(*, alert: AlertHistory, now: dt.datetime) -> dt.datetime:
    """When the ``alert.firing`` notification of ``alert`` may go out (Alertmanager's grouping timers).

    Applies to alerts of our own rules (source ``rule``) with a ``group_key``; inbound Alertmanager/Grafana
    alerts arrive grouped and timed by their sender, so they go out at ``now``. With ``alerts.conf``:

    - another alert of the group still waits for its first notification: the same time (they go out together);
    - no other open alert in the group: the group is new, ``now + GROUP_WAIT_S``;
    - the group was notified: ``max(now, last notification + GROUP_INTERVAL_S)``.
    """
    from alerts import conf

    if not _grouped(alert):
        return now
    waiting, last = notification_selectors.group_notification_times(group_key=delivery_group(alert))
    if waiting is not None:
        return max(now, waiting)
    others = AlertHistory.objects.filter(
        organization_id=alert.organization_id, group_key=alert.group_key, status__in=AlertHistory.OPEN_STATUSES
    ).exclude(pk=alert.pk)
    if not others.exists():
        return now + dt.timedelta(seconds=conf.GROUP_WAIT_S)
    if last is not None:
        return max(now, last + dt.timedelta(seconds=conf.GROUP_INTERVAL_S))
    return now


def alert_notify(
    *, event: str, alert: AlertHistory, now: dt.datetime, renotify: tuple[str, ...] = (), extra: dict | None = None
) -> list:
    """Write the notifications of ``event`` about ``alert`` (routing applies); returns the deliveries.

    ``alert.firing`` of rule alerts is timed by ``group_send_at``. ``renotify``: statuses of existing
    rows to send again (``("cancelled",)``: firing again after a silence cancelled the first send).
    Runs in the caller's transaction.
    """
    with service_context():
        alert = AlertHistory.objects.select_related("organization", "rule").get(pk=alert.pk)
        send_at = group_send_at(alert=alert, now=now) if event == "alert.firing" and not renotify else now
        deliveries, _route = notification_enqueue(
            event=event,
            organization_id=alert.organization_id,
            labels=alert_label_set(alert),
            payload=alert_payload(event=event, alert=alert, extra=extra),
            now=now,
            alert_id=alert.pk,
            group_key=delivery_group(alert) if _grouped(alert) else "",
            send_at=send_at,
            renotify=renotify,
        )
    return deliveries


def alert_notifications_cancel(*, alert: AlertHistory, reason: str, now: dt.datetime) -> int:
    """Cancel the alert's notifications not yet sent (a silence muted it, or it resolved first)."""
    return notifications_cancel(reason=reason, now=now, alert_ids=[alert.pk])


def alert_was_notified(alert: AlertHistory) -> bool:
    """Whether anybody was told that the alert fired (a firing or escalation notification went out)."""
    return notification_selectors.any_delivered(alert_id=alert.pk, events=("alert.firing", "alert.escalated"))


def alerts_repeat(*, now: dt.datetime) -> int:
    """Re-send the ``alert.firing`` notifications of alerts still firing ``REPEAT_INTERVAL_S`` after the last.

    Alertmanager's ``repeat_interval``: an alert still ``firing`` (not acknowledged, muted, flapping or
    resolved) whose firing notification was delivered at least ``alerts.conf.REPEAT_INTERVAL_S`` ago is
    sent again, as a repeat. Returns how many deliveries were re-queued. Runs in a service context.
    """
    from alerts import conf

    cutoff = now - dt.timedelta(seconds=conf.REPEAT_INTERVAL_S)
    with service_context():
        firing = list(
            AlertHistory.objects.filter(
                status=AlertHistory.Status.FIRING, flapping=False, starts_at__lte=cutoff
            ).values_list("pk", flat=True)
        )
        return notifications_repeat_due(alert_ids=firing, event="alert.firing", cutoff=cutoff, now=now)
