"""Notification outbox services: enqueue in the changing transaction, deliver with claims and back-off.

Life of a notification (``NotificationDelivery``):

1. ``notifications_enqueue`` writes one ``pending`` row per channel in the
   transaction that changed the alert or incident, and queues
   ``deliver_notification`` once that transaction commits.
2. ``delivery_attempt`` claims the row with a conditional UPDATE
   (``pending`` and due, or ``sending`` whose claim expired because a worker
   died mid-send), commits the claim, sends through the channel's transport
   outside any transaction, then records a ``DeliveryAttempt`` and the
   outcome: ``delivered``; ``pending`` again with exponential back-off; or
   ``failed`` (attempts exhausted, or a permanent error, which also disables
   the channel with ``disabled_reason``).
3. ``deliveries_sweep`` (beat, every 30 s) attempts every due row, so rows
   whose queue message was lost (Redis down at commit) still go out.

Deliveries and attempts belong to the channel's organization
(``organization_id`` of the channel: NULL for platform channels, so a
vendor never sees the ops team's deliveries).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from ..models import AlertHistory, DeliveryAttempt, NotificationChannel, NotificationDelivery
from .transports import TransportError, transport_for

logger = logging.getLogger(__name__)

Event = NotificationDelivery.Event
Status = NotificationDelivery.Status

# A claim outlives the longest send: connect + read timeouts, plus this margin (s).
CLAIM_MARGIN_S = 60.0
DEFAULT_PORTAL_BASE_URL = "http://127.0.0.1:8000"


# --- payloads ---------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _portal_url(path: str) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", DEFAULT_PORTAL_BASE_URL).rstrip("/")
    return base + path


def _admin_url(viewname: str, pk, fallback: str) -> str:
    try:
        return _portal_url(reverse(viewname, args=[pk]))
    except NoReverseMatch:
        return _portal_url(fallback)


def _org_slug(organization_id) -> str | None:
    if organization_id is None:
        return None
    from wedsync_ops.tenancy.models import Organization

    return Organization.objects.filter(pk=organization_id).values_list("slug", flat=True).first()


def _runbook_url(*, labels: dict, organization_id, explicit: str = "") -> str | None:
    """The runbook to link: ``explicit`` (an alert's ``runbook_url`` annotation or its rule's), else the
    best matching runbook's page (``incidents.selectors.runbooks_matching`` on service/alertname), else None."""
    if explicit:
        return explicit
    from incidents.selectors import runbooks_matching

    matches = runbooks_matching(labels=labels or {}, organization_id=organization_id)
    return _portal_url(f"/ops/runbooks/{matches[0].pk}/") if matches else None


def notification_payload(*, event: str, alert=None, incident=None) -> dict:
    """The JSON body sent for ``event`` about ``incident`` (if given) else ``alert``.

    Shape (all strings unless noted; times ISO 8601 with offset)::

        {"event": "incident.opened", "kind": "incident" | "alert", "id": uuid,
         "title", "status", "severity", "priority",
         "organization": slug | None (None: unassigned / platform-wide),
         "labels": {str: str}, "starts_at": time (incident: detected_at),
         "ends_at": time | None (alerts),
         "url": the ops page (admin change page) of the object,
         "organization_url": "/org/<slug>/" page | None,
         "runbook_url": the alert's runbook_url annotation, its rule's, or the
                        matching runbook's page (service/alertname labels) | None,
         # incidents only:
         "wedding_impact": "none" … "wedding_day_critical",
         "wedding": {"id", "couple_name", "wedding_date" (local date), "venue_name",
                     "ceremony_time" (local "HH:MM:SS") | None} | None,
         # alerts only:
         "alert_incident_id": uuid | None, "generator_url": str}

    Absolute URLs start with ``settings.PORTAL_BASE_URL`` (default
    ``http://127.0.0.1:8000``). Runs queries in the caller's context.
    """
    if incident is not None:
        slug = _org_slug(incident.organization_id)
        first_alert = AlertHistory.objects.filter(incident_id=incident.pk).order_by("starts_at")
        labels = first_alert.values_list("labels", flat=True).first() or {}
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
        return {
            "event": event,
            "kind": "incident",
            "id": str(incident.pk),
            "title": incident.title,
            "status": incident.status,
            "severity": incident.severity,
            "priority": incident.priority,
            "organization": slug,
            "labels": labels,
            "starts_at": _iso(incident.detected_at),
            "url": _admin_url("admin:incidents_incident_change", incident.pk, f"/api/v1/incidents/{incident.pk}/"),
            "organization_url": _portal_url(f"/org/{slug}/") if slug else None,
            "wedding_impact": incident.wedding_impact,
            "wedding": wedding,
            "runbook_url": _runbook_url(labels=labels, organization_id=incident.organization_id),
        }
    slug = _org_slug(alert.organization_id)
    return {
        "event": event,
        "kind": "alert",
        "id": str(alert.pk),
        "title": alert.title,
        "status": alert.status,
        "severity": alert.severity,
        "priority": alert.priority,
        "organization": slug,
        "labels": alert.labels,
        "starts_at": _iso(alert.starts_at),
        "ends_at": _iso(alert.ends_at),
        "url": _admin_url("admin:alerts_alerthistory_change", alert.pk, "/admin/alerts/alerthistory/"),
        "organization_url": _portal_url(f"/org/{slug}/") if slug else None,
        "alert_incident_id": str(alert.incident_id) if alert.incident_id else None,
        "generator_url": alert.generator_url,
        "runbook_url": _runbook_url(
            labels=alert.labels, organization_id=alert.organization_id,
            explicit=(alert.annotations or {}).get("runbook_url") or (alert.rule.runbook_url if alert.rule_id else ""),
        ),
    }


# --- enqueue ----------------------------------------------------------------

_INSERT_DELIVERIES = """
INSERT INTO notification_deliveries
    (organization_id, channel_id, event, alert_id, incident_id, payload, status, attempts,
     next_attempt_at, last_error, created_at)
SELECT c.organization_id, c.id, %(event)s, %(alert_id)s, %(incident_id)s, %(payload)s::jsonb, 'pending', 0,
       %(now)s, '', statement_timestamp()
  FROM notification_channels c
 WHERE c.enabled AND (c.organization_id IS NULL OR c.organization_id = %(org_id)s)
   AND (%(routed)s::uuid[] IS NULL OR c.id = ANY(%(routed)s::uuid[]))
 ORDER BY c.id
ON CONFLICT ON CONSTRAINT notification_delivery_once DO NOTHING
RETURNING id
"""


def notifications_enqueue(*, event: str, alert=None, incident=None, now: dt.datetime | None = None) -> list:
    """Write one ``NotificationDelivery`` per matching channel for ``event`` in the current transaction.

    ``event`` is a ``NotificationDelivery.Event`` value; ``alert`` an
    ``AlertHistory`` and/or ``incident`` an ``Incident`` (at least one; the
    payload describes the incident when given). Channels: chosen by the
    routing rules (``route_channels``), always among the enabled channels
    of the object's organization plus the platform channels (organization
    NULL); an object without organization goes to platform channels only.
    ``now`` (aware datetime, default ``timezone.now()``) is the rows' first
    ``next_attempt_at``. Payload: ``notification_payload``.

    Idempotent per (channel, event, alert, incident): backed by the unique
    constraint ``notification_delivery_once`` with ``INSERT … ON CONFLICT DO
    NOTHING``, so a repeat or a concurrent call adds nothing. The lookups
    and inserts run in a service context (a vendor context cannot see
    platform channels), restored to the caller's context afterwards.

    Queues ``deliver_notification`` for each new row with
    ``transaction.on_commit``; if publishing fails (Redis down) it is logged
    and the rows stay ``pending`` for the ``deliver_pending`` sweep. A
    rolled-back transaction leaves no row and queues nothing.
    Returns the deliveries created (a list of NotificationDelivery).
    Raises ValueError for an unknown event or when neither object is given.
    """
    if event not in Event.values:
        raise ValueError(f"event {event!r} is not one of {', '.join(Event.values)}")
    if alert is None and incident is None:
        raise ValueError("notifications_enqueue needs an alert or an incident")
    now = now or timezone.now()
    obj = incident if incident is not None else alert
    with service_context():
        payload = notification_payload(event=event, alert=alert, incident=incident)
        routed = route_channels(payload=payload, organization_id=obj.organization_id, now=now)
        send_at = now
        if event == Event.ALERT_FIRING and incident is None:
            send_at = group_send_at(alert=alert, now=now)
        with connection.cursor() as cur:
            cur.execute(
                _INSERT_DELIVERIES,
                {
                    "event": event,
                    "alert_id": alert.pk if alert is not None else None,
                    "incident_id": incident.pk if incident is not None else None,
                    "payload": json.dumps(payload),
                    "now": send_at,
                    "org_id": obj.organization_id,
                    "routed": [str(pk) for pk in routed] if routed is not None else None,
                },
            )
            ids = [row[0] for row in cur.fetchall()]
        deliveries = list(NotificationDelivery.objects.filter(pk__in=ids).select_related("channel")) if ids else []
    if ids:
        transaction.on_commit(lambda: _publish(ids), robust=True)
    return deliveries


def _routing_labels(payload: dict) -> dict[str, str]:
    labels = {str(k): str(v) for k, v in (payload.get("labels") or {}).items()}
    for name in ("severity", "priority", "organization"):
        if payload.get(name) and name not in labels:
            labels[name] = str(payload[name])
    return labels


def _wedding_day_on(organization_id, now: dt.datetime) -> bool:
    if organization_id is None:
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce((SELECT active FROM wedding_day_protocol(%s, %s)), false)", [organization_id, now])
        return bool(cur.fetchone()[0])


def route_channels(*, payload: dict, organization_id, now: dt.datetime) -> list | None:
    """The channel ids the routing rules (``apm_notification_rules``) choose for a payload, or None for all.

    Rules in scope: enabled, platform-wide or of ``organization_id``, in
    ``position`` order. Their matchers (``alerts.suppression``) see the
    payload's labels plus ``severity``, ``priority`` and ``organization``.
    The first matching rule's channels are chosen and routing stops, unless
    the rule has ``continue_matching``; while the organization's wedding-day
    protocol is on (at ``now``) every matching rule's channels are chosen
    and every ``wedding_day_emergency`` channel is added. (The incidents
    app pages the people marked ``wedding_day_emergency`` in
    ``escalation_contacts`` through its escalation; a channel marked
    ``wedding_day_emergency`` is how the alerts side reaches them.)

    Returns None when no rule is in scope (every channel: the behaviour
    without routing), the platform channels' ids when rules exist but none
    matches (the default route), else the chosen ids (possibly none
    enabled). Runs in the caller's (service) context.
    """
    from alerts.models import NotificationRule, NotificationRuleChannel
    from alerts.suppression import matchers_match, parse_matchers

    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    rules = list(NotificationRule.objects.filter(scope, enabled=True).order_by("position", "created_at"))
    if not rules:
        return None
    labels = _routing_labels(payload)
    wedding_day = _wedding_day_on(organization_id, now)
    matched = []
    for rule in rules:
        try:
            matchers = parse_matchers(rule.matchers)
        except Exception:  # noqa: BLE001 - a rule saved around validation matches nothing
            continue
        if matchers_match(matchers, labels):
            matched.append(rule.pk)
            if not rule.continue_matching and not wedding_day:
                break
    if not matched:
        return list(NotificationChannel.objects.filter(organization__isnull=True).values_list("pk", flat=True))
    chosen = set(
        NotificationRuleChannel.objects.filter(rule_id__in=matched).values_list("channel_id", flat=True)
    )
    if wedding_day:
        emergency = NotificationChannel.objects.filter(wedding_day_emergency=True).filter(
            Q(organization__isnull=True) | Q(organization_id=organization_id)
        )
        chosen.update(emergency.values_list("pk", flat=True))
    return sorted(chosen, key=str)


def group_send_at(*, alert, now: dt.datetime) -> dt.datetime:
    """When the ``alert.firing`` notification of ``alert`` may go out (Alertmanager's grouping timers).

    Applies to alerts of our own rules (source ``rule``) with a
    ``group_key``; inbound Alertmanager/Grafana alerts arrive grouped and
    timed by their sender, so they go out at ``now``. With ``alerts.conf``:

    - no other open alert in the group (organization, group_key): the group
      is new, ``now + GROUP_WAIT_S``;
    - another alert of the group still waits for its first notification:
      the same time as that one (they go out together);
    - the group was notified: ``max(now, last notification + GROUP_INTERVAL_S)``.
    """
    from alerts import conf

    if alert.source != AlertHistory.Source.RULE or not alert.group_key:
        return now
    others = AlertHistory.objects.filter(
        organization_id=alert.organization_id, group_key=alert.group_key, status__in=AlertHistory.OPEN_STATUSES
    ).exclude(pk=alert.pk)
    firing = NotificationDelivery.objects.filter(event=Event.ALERT_FIRING, alert__in=others)
    waiting = firing.filter(status=Status.PENDING, attempts=0).order_by("next_attempt_at").first()
    if waiting is not None:
        return max(now, waiting.next_attempt_at)
    last = firing.exclude(delivered_at__isnull=True).order_by("-delivered_at").values_list(
        "delivered_at", flat=True
    ).first()
    if last is not None:
        return max(now, last + dt.timedelta(seconds=conf.GROUP_INTERVAL_S))
    if not others.exists():
        return now + dt.timedelta(seconds=conf.GROUP_WAIT_S)
    return now


def notifications_repeat(*, now: dt.datetime) -> int:
    """Re-send the ``alert.firing`` notifications of alerts still firing after ``REPEAT_INTERVAL_S``.

    A delivered ``alert.firing`` delivery whose alert is still ``firing``
    (not acknowledged, suppressed, flapping or resolved) and whose last
    delivery is at least ``alerts.conf.REPEAT_INTERVAL_S`` old goes back to
    ``pending`` (attempts 0, due at ``now``; its earlier attempts stay in
    the log) with ``"repeat": true`` in its payload; the sweep sends it.
    Returns how many were re-queued. Runs in a service context.
    """
    from alerts import conf

    cutoff = now - dt.timedelta(seconds=conf.REPEAT_INTERVAL_S)
    with service_context(), transaction.atomic():
        due = list(
            NotificationDelivery.objects.select_for_update(skip_locked=True).filter(
                event=Event.ALERT_FIRING, status=Status.DELIVERED, delivered_at__lte=cutoff,
                alert__status=AlertHistory.Status.FIRING, alert__flapping=False,
            )
        )
        for delivery in due:
            payload = dict(delivery.payload, repeat=True)
            NotificationDelivery.objects.filter(pk=delivery.pk).update(
                status=Status.PENDING, attempts=0, next_attempt_at=now, payload=payload, claimed_until=None
            )
    return len(due)


def _publish(delivery_ids: list) -> int:
    """Queue ``deliver_notification`` for each id; on a broker error log and stop (the sweep sends them).

    Returns how many were queued.
    """
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import RedisError

    from .tasks import deliver_notification

    queued = 0
    for delivery_id in delivery_ids:
        try:
            deliver_notification.delay(str(delivery_id))
        except (KombuOperationalError, RedisError, ConnectionError, OSError) as exc:
            logger.warning(
                "notification broker unavailable (%s); %d deliveries stay pending for the sweep",
                exc,
                len(delivery_ids) - queued,
            )
            break
        queued += 1
    return queued


# --- delivery ---------------------------------------------------------------

def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFY_BACKOFF_BASE_S * 2 ** max(attempts - 1, 0))


def _due_q(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)


def delivery_attempt(*, delivery_id, now: dt.datetime) -> NotificationDelivery | None:
    """Claim, send and record one attempt of delivery ``delivery_id`` at ``now`` (aware datetime).

    The claim is a conditional UPDATE (``pending`` with ``next_attempt_at <=
    now``, or ``sending`` with ``claimed_until < now``: the worker died
    mid-send) to ``sending``, ``claimed_until = now + 2 × NOTIFY_HTTP_TIMEOUT_S
    + 60 s``, ``attempts + 1``; it commits before the send so that a second
    worker's claim matches no row. Returns None when the row was not
    claimed (not due, already taken, delivered or failed, or unknown id).

    Each send records a ``DeliveryAttempt`` (ok, status_code, error,
    duration_ms). Outcome: success → ``delivered`` (``delivered_at = now``);
    temporary error → ``pending`` with ``next_attempt_at = now +
    NOTIFY_BACKOFF_BASE_S × 2^(attempts−1)`` until ``NOTIFY_MAX_ATTEMPTS``,
    then ``failed``; permanent error → ``failed`` and the channel disabled
    with ``disabled_reason``. A channel disabled before the send fails the
    delivery without sending. Runs its short transactions in a service
    context; call it outside a transaction so the HTTP request holds no
    locks. Returns the updated NotificationDelivery.
    """
    claim_until = now + dt.timedelta(seconds=2 * settings.NOTIFY_HTTP_TIMEOUT_S + CLAIM_MARGIN_S)
    with service_context():
        claimed = (
            NotificationDelivery.objects.filter(pk=delivery_id)
            .filter(_due_q(now))
            .update(status=Status.SENDING, claimed_until=claim_until, attempts=F("attempts") + 1)
        )
        if claimed != 1:
            return None
        delivery = NotificationDelivery.objects.select_related("channel", "alert").get(pk=delivery_id)
        channel = delivery.channel
        mates = _claim_group_mates(delivery=delivery, now=now, claim_until=claim_until) if channel.enabled else []
        if not channel.enabled:
            NotificationDelivery.objects.filter(pk=delivery_id).update(
                status=Status.FAILED,
                claimed_until=None,
                attempts=F("attempts") - 1,
                last_error=f"channel disabled: {channel.disabled_reason or 'by staff'}",
            )
            delivery.refresh_from_db()
            return delivery

    if mates:  # one notification for the group, as Alertmanager sends it
        delivery.payload = group_payload(primary=delivery, mates=mates)
    started = time.monotonic()
    ok, status_code, error, permanent = True, None, "", False
    try:
        info = transport_for(channel).notify(delivery)
        status_code = info.get("status_code")
    except TransportError as exc:
        ok, status_code, error, permanent = False, exc.status_code, exc.message, exc.permanent
    except Exception as exc:  # a bug in a transport must not leave the row "sending" until the claim expires
        logger.exception("notification transport %s crashed", channel.kind)
        ok, error = False, f"transport crashed: {exc!r}"
    duration_ms = (time.monotonic() - started) * 1000.0

    with service_context():
        if permanent:
            NotificationChannel.objects.filter(pk=channel.pk).update(
                enabled=False, disabled_reason=f"{now:%Y-%m-%d %H:%M} UTC: {error}"[:500]
            )
        for row in (delivery, *mates):
            DeliveryAttempt.objects.create(
                organization_id=row.organization_id,
                delivery_id=row.pk,
                attempted_at=now,
                ok=ok,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
            ours = NotificationDelivery.objects.filter(pk=row.pk, status=Status.SENDING, claimed_until=claim_until)
            if ok:
                changes = {"status": Status.DELIVERED, "delivered_at": now, "last_error": ""}
            elif permanent:
                changes = {"status": Status.FAILED, "last_error": error}
            elif row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                changes = {"status": Status.FAILED, "last_error": f"gave up after {row.attempts} attempts: {error}"}
            else:
                retry_at = now + _backoff(row.attempts)
                changes = {"status": Status.PENDING, "last_error": error, "next_attempt_at": retry_at}
            if ours.update(claimed_until=None, **changes) != 1:
                logger.warning("delivery %s: claim lost during the send (took %.0f ms)", row.pk, duration_ms)
        delivery.refresh_from_db()
    return delivery


_CLAIM_MATES = """
UPDATE notification_deliveries d
   SET status = 'sending', claimed_until = %(claim_until)s, attempts = d.attempts + 1
  FROM alert_history a
 WHERE d.alert_id = a.id AND d.id <> %(primary)s AND d.channel_id = %(channel)s AND d.event = 'alert.firing'
   AND a.organization_id IS NOT DISTINCT FROM %(org)s AND a.group_key = %(group_key)s
   AND a.status IN ('firing', 'acknowledged', 'escalated')
   AND NOT coalesce((d.payload ->> 'repeat')::boolean, false)
   AND ((d.status = 'pending' AND d.next_attempt_at <= %(now)s)
        OR (d.status = 'sending' AND d.claimed_until < %(now)s))
RETURNING d.id
"""


def _claim_group_mates(*, delivery, now: dt.datetime, claim_until: dt.datetime) -> list:
    """Claim the other due ``alert.firing`` deliveries to the same channel for the same alert group.

    Only for alerts of our own rules (source ``rule``) with a group key:
    inbound alerts arrive grouped by their sender. One conditional UPDATE …
    RETURNING, so a mate another worker holds is never taken twice. At most
    the group's due rows; returns them (claimed, ``sending``), oldest first.
    """
    alert = delivery.alert
    if (
        delivery.event != Event.ALERT_FIRING or alert is None or alert.source != AlertHistory.Source.RULE
        or not alert.group_key or delivery.payload.get("repeat")
    ):
        return []
    with connection.cursor() as cur:
        cur.execute(_CLAIM_MATES, {
            "claim_until": claim_until, "primary": delivery.pk, "channel": delivery.channel_id,
            "org": alert.organization_id, "group_key": alert.group_key, "now": now,
        })
        ids = [row[0] for row in cur.fetchall()]
    return list(NotificationDelivery.objects.filter(pk__in=ids).order_by("created_at")) if ids else []


def group_payload(*, primary, mates: list) -> dict:
    """One notification for an alert group: the first alert's payload plus every alert of the group.

    Shape: the primary's ``alert.firing`` payload with ``"title"`` saying how
    many alerts fire, ``"group_key"`` (Alertmanager's) and ``"alerts"``: the
    payload of each alert in the group (the primary first), as Alertmanager
    puts a group's alerts into one webhook.
    """
    alerts = [primary.payload, *(m.payload for m in mates)]
    alertname = (primary.payload.get("labels") or {}).get("alertname") or primary.payload.get("title", "")
    return {
        **primary.payload,
        "title": f"{len(alerts)} alerts firing: {alertname}",
        "group_key": primary.alert.group_key,
        "alerts": alerts,
    }


def deliveries_sweep(*, now: dt.datetime, limit: int = 200) -> dict:
    """Attempt every due delivery (oldest first, at most ``limit``): the beat sweep.

    Due: ``pending`` with ``next_attempt_at <= now``, or ``sending`` whose
    claim expired. Each is attempted with ``delivery_attempt`` (which claims
    it, so a concurrent worker or sweep never sends one twice) at ``now``
    plus the time the sweep has spent so far. Returns counts
    ``{"due": n, "delivered": d, "retrying": r, "failed": f, "skipped": s}``
    (skipped: claimed by someone else meanwhile).
    """
    with service_context():
        due = NotificationDelivery.objects.filter(_due_q(now)).order_by("next_attempt_at", "created_at")
        ids = list(due.values_list("pk", flat=True)[:limit])
    counts = {"due": len(ids), "delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    started = time.monotonic()
    for delivery_id in ids:
        at = now + dt.timedelta(seconds=time.monotonic() - started)
        delivery = delivery_attempt(delivery_id=delivery_id, now=at)
        if delivery is None:
            counts["skipped"] += 1
        elif delivery.status == Status.DELIVERED:
            counts["delivered"] += 1
        elif delivery.status == Status.FAILED:
            counts["failed"] += 1
        else:
            counts["retrying"] += 1
    return counts


def channel_send_test(*, channel: NotificationChannel, now: dt.datetime) -> tuple[bool, str]:
    """Send a test payload to ``channel`` synchronously; nothing is stored and the channel is not changed.

    Payload: ``{"event": "test", "kind": "test", "id": <new uuid>, "title":
    "Test notification from WedSync Ops", "status": "test", "severity":
    "info", "priority": "low", "organization": slug | None, "labels": {},
    "starts_at": now, "url": …}``. Returns ``(ok, message)`` where message
    says what the receiver answered or why it failed (and whether that
    error is permanent).
    """
    payload = {
        "event": "test",
        "kind": "test",
        "id": str(uuid.uuid4()),
        "title": "Test notification from WedSync Ops",
        "status": "test",
        "severity": "info",
        "priority": "low",
        "organization": _org_slug(channel.organization_id),
        "labels": {},
        "starts_at": _iso(now),
        "url": _admin_url("admin:alerts_notificationchannel_change", channel.pk, "/admin/"),
    }
    started = time.monotonic()
    try:
        info = transport_for(channel).send(payload)
    except TransportError as exc:
        kind = "permanent" if exc.permanent else "temporary"
        return False, f"{channel}: failed ({kind} error): {exc.message}"
    ms = (time.monotonic() - started) * 1000.0
    return True, f"{channel}: delivered, HTTP {info.get('status_code')} in {ms:.0f} ms"


def deliveries_retry(*, delivery_ids: list, now: dt.datetime) -> int:
    """Put failed or pending deliveries back in the queue at ``now`` with a fresh attempt budget (staff action).

    ``delivery_ids``: NotificationDelivery ids; rows ``sending`` or
    ``delivered`` are left alone. Sets ``status = pending``, ``attempts = 0``,
    ``next_attempt_at = now`` (earlier ``DeliveryAttempt`` rows stay as
    history) and queues them on commit. Returns how many rows changed.
    """
    with service_context():
        ids = list(
            NotificationDelivery.objects.filter(pk__in=delivery_ids, status__in=[Status.FAILED, Status.PENDING])
            .values_list("pk", flat=True)
        )
        NotificationDelivery.objects.filter(pk__in=ids).update(
            status=Status.PENDING, attempts=0, next_attempt_at=now, claimed_until=None
        )
    if ids:
        transaction.on_commit(lambda: _publish(ids), robust=True)
    return len(ids)
