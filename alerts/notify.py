"""The alerts app's notifications: what an alert's payload and routing labels are, and when it is sent.

Every alert event goes through ``notifications.services.notification_enqueue`` (the one outbox writer,
with routing); this module only builds the payload (``alert_payload``), the labels routing matches on
(``alerts.suppression.alert_label_set``: the alert's labels plus severity, priority and organization)
and Alertmanager's grouping timers for alerts of our own rules (``group_send_at``).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, reverse

from notifications import selectors as notification_selectors
from notifications.services import notifications_cancel, notifications_repeat_due
from wedsync_ops.tenancy.context import service_context

from .models import AlertHistory
from .suppression import alert_label_set


def portal_url(path: str) -> str:
    """``settings.PORTAL_BASE_URL`` + ``path``: an absolute link for a notification."""
    return getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


@lru_cache(maxsize=1)
def _alert_url_template() -> str:
    try:
        return portal_url(reverse("admin:alerts_alerthistory_change", args=[_PLACEHOLDER]))
    except NoReverseMatch:
        return portal_url("/admin/alerts/alerthistory/")


def _alert_url(alert: AlertHistory) -> str:
    """The alert's page (reversed once; thousands of payloads are built per storm)."""
    return _alert_url_template().replace(_PLACEHOLDER, str(alert.pk))


def _runbook_url(alert: AlertHistory, runbooks=None) -> str | None:
    """The alert's ``runbook_url`` annotation, its rule's, else the best matching runbook's page, else None.

    ``runbooks``: an ``incidents.selectors.RunbookIndex`` when many alerts are notified at once.
    """
    explicit = (alert.annotations or {}).get("runbook_url") or (alert.rule.runbook_url if alert.rule_id else "")
    if explicit:
        return explicit
    from incidents.selectors import RunbookIndex

    runbooks = runbooks or RunbookIndex(organization_ids=[alert.organization_id])
    matches = runbooks.matching(labels=alert.labels or {}, organization_id=alert.organization_id)
    return portal_url(f"/ops/runbooks/{matches[0].pk}/") if matches else None


def alert_payload(*, event: str, alert: AlertHistory, extra: dict | None = None, runbooks=None) -> dict:
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
        "runbook_url": _runbook_url(alert, runbooks),
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

    ``group_send_times`` of one alert.
    """
    return group_send_times(alerts=[alert], now=now)[alert.pk]


def group_send_times(*, alerts: list, now: dt.datetime) -> dict:
    """``group_send_at`` for many alerts at once (two queries whatever their number): ``{alert_id: send_at}``.

    Alerts of one group in the same call go out together, as if they had fired one after another.
    """
    from alerts import conf

    result = {a.pk: now for a in alerts}
    grouped = [a for a in alerts if _grouped(a)]
    if not grouped:
        return result
    times = notification_selectors.groups_notification_times(group_keys={delivery_group(a) for a in grouped})
    batch = {a.pk for a in grouped}
    others_open = set()
    with connection.cursor() as cur:
        for assigned in (True, False):  # equality joins (index alert_history_open_group), not IS NOT DISTINCT FROM
            part = [a for a in grouped if (a.organization_id is not None) is assigned]
            if not part:
                continue
            match = "h.organization_id = g.org" if assigned else "h.organization_id IS NULL"
            cur.execute(
                f"""
                SELECT DISTINCT h.organization_id, h.group_key FROM alert_history h
                  JOIN unnest(%s::uuid[], %s::text[]) AS g(org, key) ON {match} AND h.group_key = g.key
                 WHERE h.status IN ('firing', 'acknowledged', 'escalated', 'suppressed')
                   AND NOT h.id = ANY(%s::uuid[])
                """,
                [
                    [str(a.organization_id) if a.organization_id else None for a in part],
                    [a.group_key for a in part],
                    [str(pk) for pk in batch],
                ],
            )
            others_open |= set(cur.fetchall())
    for alert in grouped:
        waiting, last = times.get(delivery_group(alert), (None, None))
        if waiting is not None:
            result[alert.pk] = max(now, waiting)
        elif (alert.organization_id, alert.group_key) not in others_open:
            result[alert.pk] = now + dt.timedelta(seconds=conf.GROUP_WAIT_S)
        elif last is not None:
            result[alert.pk] = max(now, last + dt.timedelta(seconds=conf.GROUP_INTERVAL_S))
    return result


def alert_notify(
    *, event: str, alert: AlertHistory, now: dt.datetime, renotify: tuple[str, ...] = (), extra: dict | None = None
) -> list:
    """Write the notifications of ``event`` about ``alert`` (routing applies); returns the deliveries.

    ``alert.firing`` of rule alerts is timed by ``group_send_at``. ``renotify``: statuses of existing
    rows to send again (``("cancelled",)``: firing again after a silence cancelled the first send).
    Runs in the caller's transaction. ``alerts_notify`` of one alert.
    """
    return alerts_notify(event=event, alerts=[alert], now=now, renotify=renotify, extra=extra)[alert.pk]


def alerts_notify(
    *,
    event: str,
    alerts: list,
    now: dt.datetime,
    renotify: tuple[str, ...] = (),
    extra: dict | None = None,
    protocols: dict | None = None,
) -> dict:
    """``alert_notify`` for many alerts at once (set-based); returns ``{alert_id: deliveries}``.

    A fixed number of queries whatever the number of alerts: the alerts (with organization and rule),
    the runbooks, the groups' timers (``group_send_times``), one routing load and one outbox insert
    (``notifications.services.notifications_enqueue_many``); ``protocols``: the organizations'
    ``WeddingDay`` at ``now`` when the caller has them. Runs in the caller's transaction.
    """
    from incidents.selectors import RunbookIndex
    from notifications.services import NotificationRequest, notifications_enqueue_many

    with service_context():
        fresh = list(AlertHistory.objects.select_related("organization", "rule").filter(pk__in=[a.pk for a in alerts]))
        runbooks = RunbookIndex(organization_ids={a.organization_id for a in fresh})
        timed = event == "alert.firing" and not renotify
        send_at = group_send_times(alerts=fresh, now=now) if timed else {}
        requests = [
            NotificationRequest(
                event=event,
                organization_id=alert.organization_id,
                labels=alert_label_set(alert),
                payload=alert_payload(event=event, alert=alert, extra=extra, runbooks=runbooks),
                alert_id=alert.pk,
                group_key=delivery_group(alert) if _grouped(alert) else "",
                send_at=send_at.get(alert.pk, now),
                renotify=renotify,
            )
            for alert in fresh
        ]
        notifications_enqueue_many(requests, now=now, protocols=protocols)
    result = {a.pk: [] for a in alerts}
    result.update({request.alert_id: request.deliveries for request in requests})
    return result


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
