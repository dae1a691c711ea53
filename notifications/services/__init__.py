"""Notification outbox services: the one writer of ``notification_deliveries``, and channel changes.

Life of a notification (``NotificationDelivery``):

1. ``notification_enqueue`` writes one row per channel that routing chooses (``routing.route_channels``)
   in the transaction that changed the alert or incident, and queues ``deliver_notification`` once that
   transaction commits. A disabled channel's row is written ``held``, never skipped.
2. ``notifications.delivery.delivery_send`` claims the row, sends it outside any transaction, records a
   ``DeliveryAttempt`` and the outcome (``delivered``; ``pending`` again with back-off; ``failed``).
3. ``deliveries_sweep`` (beat, every 30 s) sends every due row, so rows whose queue message was lost
   (Redis down at commit, a worker killed) still go out.

Callers (the alerts and incidents apps, later on-call paging) build the payload and the labels routing
matches on; this app imports neither of them. The payload contract, used by every transport::

    {"event": "alert.firing" | "incident.opened" | …, "kind": "alert" | "incident", "id": uuid,
     "title": str, "status": str, "severity": str, "priority": str, "organization": slug | None,
     "labels": {str: str}, "starts_at": ISO 8601, "url": absolute URL, …caller's extra keys}

``notification_enqueue`` adds ``"delivery_id"`` to each row's payload. Deliveries belong to the
channel's organization (NULL for platform channels: a vendor never sees the ops team's deliveries).

Pages to people (on-call paging) go through the same writer: the caller (the incidents app, with the
on-call app's help) passes ``recipients`` (``Recipient``: who, by which method, to which address, when,
with what extra payload such as the acknowledge link); each becomes a row without a channel, exactly
once per (event, incident, step, person, method). This app knows people only as those ids and addresses.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from ..models import NotificationDelivery
from ..routing import Route, Router

logger = logging.getLogger(__name__)

Event = NotificationDelivery.Event
Status = NotificationDelivery.Status

_INSERT_MANY = """
INSERT INTO notification_deliveries AS d
    (id, organization_id, channel_id, event, step, alert_id, incident_id, group_key, payload, status,
     attempts, next_attempt_at, last_error, created_at)
SELECT t.id, c.organization_id, c.id, t.event, t.step, t.alert_id, t.incident_id, t.group_key, t.payload,
       CASE WHEN c.enabled THEN 'pending' ELSE 'held' END, 0, t.send_at,
       CASE WHEN c.enabled THEN '' ELSE 'held: channel disabled' END, statement_timestamp()
  FROM jsonb_to_recordset(%(rows)s::jsonb)
       AS t(id uuid, channel_id uuid, event text, step int, alert_id uuid, incident_id uuid, group_key text,
            payload jsonb, send_at timestamptz)
  JOIN notification_channels c ON c.id = t.channel_id
 ORDER BY c.id, t.alert_id, t.incident_id
ON CONFLICT ON CONSTRAINT notification_delivery_once DO {conflict}
RETURNING d.id, d.channel_id, d.event, d.step, d.alert_id, d.incident_id, d.organization_id, d.status, d.payload,
          d.attempts, d.next_attempt_at, d.group_key, d.last_error
"""
# A renotification (a repeat, or firing again after a silence) sends an existing row once more: a row
# in one of the ``renotify`` statuses goes back to pending with a new sequence number (its idempotency
# key changes, so receivers do not drop it as a duplicate); earlier attempts stay in the log.
_RENOTIFY = """UPDATE SET status = EXCLUDED.status,
       attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at, claimed_until = NULL, last_error = EXCLUDED.last_error,
       payload = EXCLUDED.payload || jsonb_build_object('repeat', true, 'delivery_id', d.id::text,
                   'sequence', coalesce((d.payload ->> 'sequence')::int, 0) + 1)
 WHERE d.status = ANY(%(renotify)s::text[])"""


_UPSERT_PAGES = """
INSERT INTO notification_deliveries AS d
    (id, organization_id, channel_id, event, step, alert_id, incident_id, group_key, payload, status, attempts,
     next_attempt_at, last_error, created_at, user_id, contact_id, method, address, recipient_name)
SELECT r.id, r.organization_id, NULL, %(event)s, %(step)s, %(alert_id)s, %(incident_id)s, '',
       r.payload, 'pending', 0, r.send_at, '', statement_timestamp(), r.user_id, r.contact_id, r.method, r.address,
       r.recipient_name
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(id uuid, organization_id uuid, payload jsonb, send_at timestamptz,
       user_id integer, contact_id uuid, method text, address text, recipient_name text)
ON CONFLICT ON CONSTRAINT notification_delivery_once DO NOTHING
RETURNING d.id
"""


@dataclass(frozen=True)
class Recipient:
    """One page to one person by one method, for ``notification_enqueue(recipients=…)``.

    ``user_id`` (a Django user) or ``contact_id`` (an escalation contact without a login) says who;
    ``name`` is shown on the timeline; ``method``: ``NotificationDelivery.Method`` (email, sms, voice,
    slack); ``address``: the email address, E.164 number or Slack member id; ``organization_id``: the
    person's (None: staff); ``send_at``: when (None: at once; later for "voice call after 3 min");
    ``extra``: merged into this row's payload (e.g. ``acknowledge_url``, ``acknowledge_code``,
    ``voice_gather_url``).
    """

    method: str
    address: str
    name: str
    user_id: int | None = None
    contact_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    send_at: dt.datetime | None = None
    extra: dict = field(default_factory=dict, compare=False)


def _page_row(r: Recipient, *, body: dict, now: dt.datetime) -> dict:
    """The jsonb_to_recordset row of one page (see ``_UPSERT_PAGES``); its payload names its delivery id."""
    if r.method not in NotificationDelivery.Method.values or not r.address:
        raise ValueError(f"a page needs a method ({', '.join(NotificationDelivery.Method.values)}) and an address")
    if r.user_id is None and r.contact_id is None:
        raise ValueError("a page is for a user or a contact (user_id or contact_id)")
    delivery_id = str(uuid.uuid4())
    recipient = {
        "name": r.name,
        "method": r.method,
        "address": r.address,
        "user_id": r.user_id,
        "contact_id": str(r.contact_id) if r.contact_id else None,
    }
    return {
        "id": delivery_id,
        "organization_id": str(r.organization_id) if r.organization_id else None,
        "payload": {**body, **r.extra, "recipient": recipient, "delivery_id": delivery_id},
        "send_at": (r.send_at or now).isoformat(),
        "user_id": r.user_id,
        "contact_id": str(r.contact_id) if r.contact_id else None,
        "method": r.method,
        "address": r.address[:254],
        "recipient_name": r.name[:200],
    }


def _delivery(row: tuple, *, channel) -> NotificationDelivery:
    """A written delivery from its ``RETURNING`` row, with its channel from the router (no second query)."""
    (
        pk,
        channel_id,
        event,
        step,
        alert_id,
        incident_id,
        organization_id,
        status,
        payload,
        attempts,
        next_attempt_at,
        group_key,
        last_error,
    ) = row
    if isinstance(payload, str):  # Django's connection reads jsonb as text
        payload = json.loads(payload)
    delivery = NotificationDelivery(
        id=pk,
        channel_id=channel_id,
        event=event,
        step=step,
        alert_id=alert_id,
        incident_id=incident_id,
        organization_id=organization_id,
        status=status,
        payload=payload,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        group_key=group_key,
        last_error=last_error,
    )
    delivery._state.adding, delivery._state.db = False, "default"
    if channel is not None:
        delivery.channel = channel
    return delivery


def _json_safe(payload: dict | list) -> str:
    return json.dumps(payload, default=str, separators=(",", ":"))


@dataclass
class NotificationRequest:
    """One notification to write: what ``notification_enqueue`` takes, for ``notifications_enqueue_many``.

    Fields as ``notification_enqueue``'s arguments; ``renotify``: statuses of an existing row that send it
    once more (``()``: none). After the call, ``deliveries`` and ``route`` hold what was written.
    """

    event: str
    organization_id: uuid.UUID | None
    labels: dict
    payload: dict
    alert_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    step: int = 0
    group_key: str = ""
    send_at: dt.datetime | None = None
    renotify: tuple[str, ...] = ()
    channels: tuple = ()
    recipients: tuple = ()
    deliveries: list = field(default_factory=list)
    route: Route | None = None

    def validate(self) -> None:
        if self.event not in Event.values:
            raise ValueError(f"event {self.event!r} is not one of {', '.join(Event.values)}")
        if self.alert_id is None and self.incident_id is None:
            raise ValueError("a notification is about an alert or an incident (alert_id or incident_id)")


def notification_enqueue(
    *,
    event: str,
    organization_id: uuid.UUID | None,
    labels: dict,
    payload: dict,
    now: dt.datetime,
    alert_id: uuid.UUID | None = None,
    incident_id: uuid.UUID | None = None,
    step: int = 0,
    group_key: str = "",
    send_at: dt.datetime | None = None,
    renotify: tuple[str, ...] = (),
    channels: tuple = (),
    recipients: tuple = (),
) -> tuple[list[NotificationDelivery], Route]:
    """Write the outbox rows of one notification in the current transaction; returns ``(deliveries, route)``.

    ``event``: a ``NotificationDelivery.Event`` value. ``organization_id``: whose notification it is
    (None: platform-wide, platform channels only). ``labels``: what routing matches on (``{str: str}``,
    including ``severity``/``priority``/``organization``). ``payload``: the JSON body (contract in the
    module docstring). ``alert_id``/``incident_id``: what it is about (at least one). ``step``: the
    escalation step for ``*.escalated`` events (each step notifies once). ``group_key``: the alert group,
    for grouped sending. ``send_at`` (default ``now``): the first ``next_attempt_at``. ``renotify``:
    statuses of an existing row that send it once more (e.g. ``("cancelled",)`` when a silence that
    cancelled it expires), as a repeat with a new idempotency key. ``channels``: channel ids notified
    whatever routing says (an escalation step that targets a channel; only the organization's or the
    platform's). ``recipients``: pages to people (``Recipient``), one row each without a channel,
    ``pending`` from its ``send_at``.

    One row per routed channel (``routing.Router``), ``pending``, or ``held`` when the channel is
    disabled. Idempotent per (channel, event, alert, incident, step, person, method): a repeat adds
    nothing, unless the existing row's status is in ``renotify`` (channel rows only). The rows are
    written in a service context (a vendor caller cannot see platform channels), restored to the
    caller's context afterwards, and queued for the worker after commit; a broker error only logs (the
    sweep sends them). A rolled-back transaction leaves no row and queues nothing. Raises ValueError for
    an unknown event, when neither ``alert_id`` nor ``incident_id`` is given, or for a naive ``now``.
    """
    request = NotificationRequest(
        event=event,
        organization_id=organization_id,
        labels=labels,
        payload=payload,
        alert_id=alert_id,
        incident_id=incident_id,
        step=step,
        group_key=group_key,
        send_at=send_at,
        renotify=renotify,
        channels=tuple(channels),
        recipients=tuple(recipients),
    )
    notifications_enqueue_many([request], now=now)
    return request.deliveries, request.route  # type: ignore[return-value]  # routed by enqueue


def notifications_enqueue_many(
    requests: list[NotificationRequest], *, now: dt.datetime, router=None, protocols: dict | None = None
) -> list:
    """Write many notifications at once (set-based): one routing load, one INSERT per kind of conflict.

    The same meaning as ``notification_enqueue`` for each request (which is this function with one
    request): routing through one ``routing.Router`` (built for the requests' organizations unless
    given; ``protocols``: the organizations' wedding-day protocols at ``now`` when the caller has them,
    ``{organization_id: WeddingDay}``), every row's payload carrying its own ``delivery_id``, ``held``
    for disabled channels, idempotent per (channel, event, alert, incident, step). Fills each request's
    ``deliveries`` and
    ``route``; returns ``requests``. Used by rule evaluation to fire thousands of alerts within one tick.
    Raises ValueError as ``notification_enqueue``.
    """
    if now is None or timezone.is_naive(now):
        raise ValueError("notification_enqueue needs an aware now")
    for request in requests:
        request.validate()
    if not requests:
        return requests
    with service_context():
        router = router or Router(organization_ids={r.organization_id for r in requests}, now=now, protocols=protocols)
        batches: dict[tuple, list] = {}
        for index, request in enumerate(requests):
            request.route = router.route(organization_id=request.organization_id, labels=request.labels)
            extra = [
                pk
                for pk in request.channels
                if pk not in request.route.channel_ids
                and (c := router.channel(pk)) is not None
                and c.organization_id in (None, request.organization_id)
            ]
            for channel_id in (*request.route.channel_ids, *extra):
                delivery_id = uuid.uuid4()
                body = dict(request.payload, event=request.event, delivery_id=str(delivery_id))
                batches.setdefault(tuple(request.renotify), []).append((index, delivery_id, channel_id, request, body))
        by_key: dict[tuple, int] = {}
        for renotify, rows in batches.items():
            for _index, _id, channel_id, request, _body in rows:
                by_key[(channel_id, request.event, request.step, request.alert_id, request.incident_id)] = _index
            with connection.cursor() as cur:
                # One JSON document, not ten arrays: thousands of rows in one parameter (jsonb_to_recordset).
                document = [
                    {
                        "id": str(delivery_id),
                        "channel_id": str(channel_id),
                        "event": request.event,
                        "step": request.step,
                        "alert_id": str(request.alert_id) if request.alert_id else None,
                        "incident_id": str(request.incident_id) if request.incident_id else None,
                        "group_key": request.group_key[:500],
                        "payload": body,
                        "send_at": (request.send_at or now).isoformat(),
                    }
                    for _index, delivery_id, channel_id, request, body in rows
                ]
                cur.execute(
                    _INSERT_MANY.format(conflict=_RENOTIFY if renotify else "NOTHING"),
                    {"renotify": list(renotify), "rows": _json_safe(document)},
                )
                for row in cur.fetchall():
                    delivery_id, channel_id, event, step, alert_id, incident_id = row[:6]
                    index = by_key[(channel_id, event, step, alert_id, incident_id)]
                    requests[index].deliveries.append(_delivery(row, channel=router.channel(channel_id)))
        for request in requests:
            if request.recipients:
                request.deliveries += _write_pages(request, now=now)
            request.deliveries.sort(
                key=lambda d: (
                    d.channel_id is None,
                    str(d.channel_id),
                    d.recipient_name,
                    d.next_attempt_at or now,
                    d.method,
                )
            )
    pending = [
        d.pk
        for r in requests
        for d in r.deliveries
        if d.status == Status.PENDING and (d.next_attempt_at is None or d.next_attempt_at <= now)
    ]
    if pending:
        transaction.on_commit(lambda: publish(pending), robust=True)
    return requests


def _write_pages(request: NotificationRequest, *, now: dt.datetime) -> list[NotificationDelivery]:
    """Write the request's pages to people (``_UPSERT_PAGES``); returns the rows written (not those that existed)."""
    body = dict(request.payload, event=request.event)
    with connection.cursor() as cur:
        cur.execute(
            _UPSERT_PAGES,
            {
                "event": request.event,
                "step": request.step,
                "alert_id": request.alert_id,
                "incident_id": request.incident_id,
                "rows": _json_safe([_page_row(r, body=body, now=now) for r in request.recipients]),
            },
        )
        ids = [row[0] for row in cur.fetchall()]
    return list(NotificationDelivery.objects.filter(pk__in=ids)) if ids else []


def notifications_cancel(
    *,
    reason: str,
    now: dt.datetime,
    alert_ids=(),
    incident_ids=(),
    events: tuple[str, ...] | None = None,
) -> int:
    """Cancel the deliveries not yet sent (``pending`` or ``held``) about these alerts or incidents.

    ``events`` (default: every event) limits it, e.g. to ``("incident.escalated",)``. A row being
    sent right now is left to finish. ``last_error`` records ``reason`` (e.g. "muted by silence …").
    Used when a silence mutes an alert, when an incident is acknowledged or resolved (its pending
    escalation pages are moot) and when an alert resolves before its firing went out. Returns the
    number cancelled. Runs in a service context.
    """
    alert_ids, incident_ids = [str(a) for a in alert_ids], [str(i) for i in incident_ids]
    if not alert_ids and not incident_ids:
        return 0
    with service_context(), connection.cursor() as cur:
        cur.execute(
            "UPDATE notification_deliveries SET status = 'cancelled', last_error = %(reason)s, claimed_until = NULL"
            " WHERE status IN ('pending', 'held')"
            "   AND (alert_id = ANY(%(alerts)s::uuid[]) OR incident_id = ANY(%(incidents)s::uuid[]))"
            "   AND (%(events)s::text[] IS NULL OR event = ANY(%(events)s::text[]))",
            {
                "reason": reason[:500],
                "alerts": alert_ids,
                "incidents": incident_ids,
                "events": list(events) if events else None,
            },
        )
        return cur.rowcount


def notifications_repeat_due(*, alert_ids, event: str, cutoff: dt.datetime, now: dt.datetime) -> int:
    """Re-queue, as repeats, the delivered ``event`` rows of ``alert_ids`` last delivered at or before ``cutoff``.

    The alerts app decides which alerts still want repeating (firing, not muted: Alertmanager's
    ``repeat_interval``); this sends each such row again at ``now`` with ``"repeat": true`` and a new
    sequence number. Returns how many rows were re-queued; they are queued for the worker on commit.
    """
    ids = [str(a) for a in alert_ids]
    if not ids:
        return 0
    with service_context(), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE notification_deliveries d SET status = 'pending', attempts = 0, next_attempt_at = %(now)s,"
            "   claimed_until = NULL, payload = d.payload || jsonb_build_object('repeat', true,"
            "     'sequence', coalesce((d.payload ->> 'sequence')::int, 0) + 1)"
            " WHERE d.alert_id = ANY(%(ids)s::uuid[]) AND d.event = %(event)s AND d.status = 'delivered'"
            "   AND d.delivered_at <= %(cutoff)s"
            " RETURNING d.id",
            {"now": now, "ids": ids, "event": event, "cutoff": cutoff},
        )
        requeued = [row[0] for row in cur.fetchall()]
    if requeued:
        transaction.on_commit(lambda: publish(requeued), robust=True)
    return len(requeued)


PUBLISH_CHUNK = 25  # deliveries per queued task: a storm of 10,000 is 400 messages, spread over the workers


def publish(delivery_ids: list) -> int:
    """Queue the deliveries for the workers; on a broker error log and stop (the sweep sends them).

    One delivery: ``deliver_notification(id)``. More: ``deliver_notifications(ids)`` per chunk of
    ``PUBLISH_CHUNK``, all through one broker connection, so an alert storm is a few hundred messages
    rather than one per delivery. Returns how many deliveries were queued.
    """
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import RedisError

    from ..tasks import deliver_notification, deliver_notifications

    ids = [str(d) for d in delivery_ids]
    queued = 0
    try:
        if len(ids) == 1:
            deliver_notification.delay(ids[0])
            return 1
        with deliver_notifications.app.producer_or_acquire() as producer:
            for start in range(0, len(ids), PUBLISH_CHUNK):
                chunk = ids[start : start + PUBLISH_CHUNK]
                deliver_notifications.apply_async((chunk,), producer=producer)
                queued += len(chunk)
    except (KombuOperationalError, RedisError, ConnectionError, OSError) as exc:
        logger.warning(
            "notification broker unavailable (%s); %d deliveries stay pending for the sweep", exc, len(ids) - queued
        )
    return queued


def deliveries_retry(*, delivery_ids: list, now: dt.datetime) -> int:
    """Put failed or pending deliveries back in the queue at ``now`` with a fresh attempt budget (staff action).

    Rows ``sending``, ``delivered``, ``held`` or ``cancelled`` are left alone. Earlier attempts stay as
    history; the rows are queued on commit. Returns how many rows changed.
    """
    with service_context():
        ids = list(
            NotificationDelivery.objects.filter(
                pk__in=delivery_ids, status__in=[Status.FAILED, Status.PENDING]
            ).values_list("pk", flat=True)
        )
        NotificationDelivery.objects.filter(pk__in=ids).update(
            status=Status.PENDING, attempts=0, next_attempt_at=now, claimed_until=None
        )
    if ids:
        transaction.on_commit(lambda: publish(ids), robust=True)
    return len(ids)


# Channels (create, configure, disable and enable, test, re-encrypt): notifications/services/channels.py.
from .channels import (  # noqa: E402, F401
    channel_configs_reencrypt,
    channel_create,
    channel_delete,
    channel_disable,
    channel_enable,
    channel_test,
    channel_update_config,
)
