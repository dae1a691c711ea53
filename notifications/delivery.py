"""Sending the outbox: claim a delivery, send it outside any transaction, record the attempt and the outcome.

A delivery is claimed with a conditional UPDATE (``pending`` and due, or ``sending`` whose claim expired
because a worker died mid-send), committed before the send, so a second worker's claim matches no row.
Every request carries the delivery's stable key (``X-WedSync-Delivery`` and ``Idempotency-Key``), so a
receiver can drop the re-send that follows a worker crash mid-send.

Outcomes (``_outcome``): success → ``delivered``; a temporary error (timeouts, connection errors, 408,
429, 5xx, and 4xx that the receiver does not document as permanent) → ``pending`` again with back-off
``NOTIFY_BACKOFF_BASE_S × 2^(attempts−1)``, until ``NOTIFY_MAX_ATTEMPTS``, then ``failed``; an error that is
permanent by the receiver's documented meaning → ``failed`` and the channel disabled; sustained 4xx
(``conf.DISABLE_AFTER_4XX`` attempts over ``conf.DISABLE_4XX_SPAN_S``) also disables the channel. A
delivery whose channel is disabled is ``held`` instead of sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import connection
from django.db.models import F, Q

from wedsync_ops.tenancy.context import service_context

from . import conf, signals
from .models import DeliveryAttempt, DeliveryAttemptDetail, NotificationChannel, NotificationDelivery
from .page_transports import page_transport_for
from .services import channel_disable
from .transports import TransportError, transport_for

logger = logging.getLogger(__name__)

Status = NotificationDelivery.Status

# A claim outlives the longest send: connect + read timeouts, plus this margin (s).
CLAIM_MARGIN_S = 60.0


def delivery_key(delivery: NotificationDelivery) -> str:
    """The stable idempotency key of a delivery's current round: its id, plus ``.<n>`` for its n-th repeat.

    Every attempt of one round (retries, and the re-send after a worker crash) carries the same key;
    a repeat (``repeat_interval``, or firing again after a silence) is a new notification with a new key.
    """
    sequence = int((delivery.payload or {}).get("sequence") or 0)
    return str(delivery.pk) if sequence == 0 else f"{delivery.pk}.{sequence}"


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFY_BACKOFF_BASE_S * 2 ** max(attempts - 1, 0))


def _due_q(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)


def delivery_send(*, delivery_id, now: dt.datetime) -> NotificationDelivery | None:
    """Claim, send and record one attempt of delivery ``delivery_id`` at ``now`` (aware datetime).

    Returns None when the row was not claimed (not due, already taken, delivered, failed, held,
    cancelled, or unknown id); else the updated NotificationDelivery. The claim sets ``sending``,
    ``claimed_until = now + 2 × NOTIFY_HTTP_TIMEOUT_S + 60 s`` and ``attempts + 1``. Each send records a
    ``DeliveryAttempt`` (ok, status_code, error, duration_ms). Call it outside a transaction: the HTTP
    request holds no locks. Runs its short transactions in a service context.
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
        delivery = NotificationDelivery.objects.select_related("channel").get(pk=delivery_id)
        channel = delivery.channel
        if channel is None:  # a page to a person: no channel to hold it, no group to join
            pass
        elif not channel.enabled:
            NotificationDelivery.objects.filter(pk=delivery_id).update(
                status=Status.HELD,
                claimed_until=None,
                attempts=F("attempts") - 1,
                last_error="held: channel disabled",
            )
            delivery.refresh_from_db()
            return delivery
        mates = _claim_group_mates(delivery=delivery, now=now, claim_until=claim_until) if channel else []

    if mates:  # one notification for the group, as Alertmanager sends it
        delivery.payload = group_payload(primary=delivery, mates=mates)
    started = time.monotonic()
    error = None
    status_code = None
    try:
        transport = transport_for(channel) if channel is not None else page_transport_for(delivery.method)
        info = transport.notify(delivery, key=delivery_key(delivery))
        status_code = info.get("status_code")
    except TransportError as exc:
        error = exc
        status_code = exc.status_code
    except Exception as exc:  # a bug in a transport must not leave the row "sending" until the claim expires
        logger.exception("notification transport %s crashed", channel.kind if channel else delivery.method)
        error = TransportError(f"transport crashed: {exc!r}")
    duration_ms = (time.monotonic() - started) * 1000.0
    with service_context():
        return _record(
            delivery=delivery,
            mates=mates,
            channel=channel,
            error=error,
            status_code=status_code,
            duration_ms=duration_ms,
            now=now,
            claim_until=claim_until,
        )


def _record(*, delivery, mates, channel, error: TransportError | None, status_code, duration_ms, now, claim_until):
    """Record the attempt of ``delivery`` (and its group mates) and move each row to its outcome."""
    from django.db import transaction

    with transaction.atomic():
        failed = []
        for row in (delivery, *mates):
            attempt = DeliveryAttempt.objects.create(
                organization_id=row.organization_id,
                channel_id=channel.pk if channel else None,
                delivery_id=row.pk,
                attempted_at=now,
                ok=error is None,
                status_code=status_code,
                error=error.message if error else "",
                duration_ms=duration_ms,
            )
            _keep_answer(attempt=attempt, error=error)
            ours = NotificationDelivery.objects.filter(pk=row.pk, status=Status.SENDING, claimed_until=claim_until)
            if error is None:
                changes = {"status": Status.DELIVERED, "delivered_at": now, "last_error": ""}
            elif error.permanent:
                changes = {"status": Status.FAILED, "last_error": error.message}
            elif row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                changes = {
                    "status": Status.FAILED,
                    "last_error": f"gave up after {row.attempts} attempts: {error.message}",
                }
            else:
                changes = {
                    "status": Status.PENDING,
                    "last_error": error.message,
                    "next_attempt_at": now + _backoff(row.attempts),
                }
            if ours.update(claimed_until=None, **changes) != 1:
                logger.warning("delivery %s: claim lost during the send (took %.0f ms)", row.pk, duration_ms)
            elif changes["status"] == Status.FAILED:
                failed.append(row.pk)
        if error is not None and channel is not None:  # a person's bad number never disables a channel
            reason = _disable_reason(channel=channel, error=error, now=now)
            if reason:
                channel_disable(channel=channel, reason=reason, now=now, by_person=False)
        for row in NotificationDelivery.objects.filter(pk__in=failed):
            signals.delivery_failed.send(sender=NotificationDelivery, delivery=row, now=now)
    delivery.refresh_from_db()
    return delivery


def _keep_answer(*, attempt: DeliveryAttempt, error: TransportError | None) -> None:
    """Store what the receiver answered (``error.body``) where only staff read it (``DeliveryAttemptDetail``)."""
    if error is not None and error.body:
        DeliveryAttemptDetail.objects.create(attempt=attempt, response_body=error.body[:500])


def _disable_reason(*, channel: NotificationChannel, error: TransportError, now: dt.datetime) -> str:
    """Why ``channel`` must be disabled after ``error``, or ``""``.

    Permanent by the receiver's documented meaning: disable at once, with the transport's fixed reason.
    A 4xx (other than 408/429): disable once at least ``conf.DISABLE_AFTER_4XX`` attempts since the
    channel's last success answered 4xx, the first of them ``conf.DISABLE_4XX_SPAN_S`` or more before
    ``now``. The reason never quotes the receiver's body (a vendor reads it).
    """
    if error.permanent:
        return f"{now:%Y-%m-%d %H:%M} UTC: {error.reason or 'the receiver refused it permanently'}"
    code = error.status_code
    if code is None or not 400 <= code < 500 or code in (408, 429):
        return ""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*), min(a.attempted_at)
              FROM notification_delivery_attempts a
             WHERE a.channel_id = %(channel)s AND NOT a.test AND a.status_code BETWEEN 400 AND 499
               AND a.status_code NOT IN (408, 429)
               AND a.attempted_at > coalesce((SELECT max(s.attempted_at) FROM notification_delivery_attempts s
                                               WHERE s.channel_id = %(channel)s AND s.ok), '-infinity')
            """,
            {"channel": channel.pk},
        )
        count, first = cur.fetchone()
    if (
        count >= conf.DISABLE_AFTER_4XX
        and first is not None
        and (now - first).total_seconds() >= conf.DISABLE_4XX_SPAN_S
    ):
        minutes = (now - first).total_seconds() / 60
        return f"{now:%Y-%m-%d %H:%M} UTC: the receiver answered HTTP 4xx to {count} attempts over {minutes:.0f} min"
    return ""


_CLAIM_MATES = """
UPDATE notification_deliveries d
   SET status = 'sending', claimed_until = %(claim_until)s, attempts = d.attempts + 1
 WHERE d.id <> %(primary)s AND d.channel_id = %(channel)s AND d.event = 'alert.firing'
   AND d.group_key = %(group_key)s
   AND NOT coalesce((d.payload ->> 'repeat')::boolean, false)
   AND ((d.status = 'pending' AND d.next_attempt_at <= %(now)s)
        OR (d.status = 'sending' AND d.claimed_until < %(now)s))
RETURNING d.id
"""


def _claim_group_mates(*, delivery, now: dt.datetime, claim_until: dt.datetime) -> list:
    """Claim the other due ``alert.firing`` deliveries of the same alert group to the same channel.

    Only rows written with ``grouped`` payloads (``payload["grouped"]``: alerts of our own rules;
    inbound alerts arrive grouped by their sender) and never repeats. One conditional UPDATE …
    RETURNING, so a mate another worker holds is never taken twice. Returns them, oldest first.
    """
    payload = delivery.payload or {}
    if (
        delivery.event != "alert.firing"
        or not delivery.group_key
        or not payload.get("grouped")
        or payload.get("repeat")
    ):
        return []
    with connection.cursor() as cur:
        cur.execute(
            _CLAIM_MATES,
            {
                "claim_until": claim_until,
                "primary": delivery.pk,
                "channel": delivery.channel_id,
                "group_key": delivery.group_key,
                "now": now,
            },
        )
        ids = [row[0] for row in cur.fetchall()]
    return list(NotificationDelivery.objects.filter(pk__in=ids).order_by("created_at")) if ids else []


def group_payload(*, primary, mates: list) -> dict:
    """One notification for an alert group: the first alert's payload plus every alert of the group.

    Shape: the primary's ``alert.firing`` payload with ``"title"`` saying how many alerts fire,
    ``"group_key"`` (Alertmanager's) and ``"alerts"``: the payload of each alert in the group (the
    primary first), as Alertmanager puts a group's alerts into one webhook.
    """
    alerts = [primary.payload, *(m.payload for m in mates)]
    alertname = (primary.payload.get("labels") or {}).get("alertname") or primary.payload.get("title", "")
    return {
        **primary.payload,
        "title": f"{len(alerts)} alerts firing: {alertname}",
        "group_key": primary.payload.get("group_key", ""),
        "alerts": alerts,
    }


def deliveries_sweep(*, now: dt.datetime, limit: int = 200) -> dict:
    """Send every due delivery (oldest first, at most ``limit``): the beat sweep.

    Each is sent with ``delivery_send`` (which claims it, so a concurrent worker or sweep never sends
    one twice) at ``now`` plus the time the sweep has spent so far. Returns counts ``{"due": n,
    "delivered": d, "retrying": r, "failed": f, "skipped": s}`` (skipped: taken by someone else, or held).
    """
    with service_context():
        due = NotificationDelivery.objects.filter(_due_q(now)).order_by("next_attempt_at", "created_at")
        ids = list(due.values_list("pk", flat=True)[:limit])
    counts = {"due": len(ids), "delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    started = time.monotonic()
    for delivery_id in ids:
        at = now + dt.timedelta(seconds=time.monotonic() - started)
        delivery = delivery_send(delivery_id=delivery_id, now=at)
        if delivery is None or delivery.status == Status.HELD:
            counts["skipped"] += 1
        elif delivery.status == Status.DELIVERED:
            counts["delivered"] += 1
        elif delivery.status == Status.FAILED:
            counts["failed"] += 1
        else:
            counts["retrying"] += 1
    return counts


def channel_send_test(
    *, channel: NotificationChannel, now: dt.datetime, organization_slug: str | None = None, url: str = ""
) -> tuple[bool, str]:
    """Send a test notification to ``channel`` now, synchronously; returns ``(ok, message)``.

    Nothing enters the outbox; the attempt is recorded (``DeliveryAttempt`` with ``test`` True and no
    delivery), so the channels page and wedding readiness see a working channel. Payload: ``{"event":
    "test", "kind": "test", "id": <new uuid>, "title": "Test notification from WedSync Ops", "status":
    "test", "severity": "info", "priority": "low", "organization": slug | None, "labels": {}, "starts_at":
    now, "url": url}``. The message says what the receiver answered (status code only) or why it failed.
    A disabled channel is tried too (that is how one checks it before enabling it).
    """
    import uuid

    key = str(uuid.uuid4())
    payload = {
        "event": "test",
        "kind": "test",
        "id": key,
        "delivery_id": key,
        "title": "Test notification from WedSync Ops",
        "status": "test",
        "severity": "info",
        "priority": "low",
        "organization": organization_slug,
        "labels": {},
        "starts_at": now.isoformat(),
        "url": url,
    }
    started = time.monotonic()
    failure = None
    try:
        info = transport_for(channel).send(payload, key=key)
        ok, code, error, reason = True, info.get("status_code"), "", ""
    except TransportError as exc:
        ok, code, error, reason, failure = False, exc.status_code, exc.message, exc.reason, exc
    ms = (time.monotonic() - started) * 1000.0
    with service_context():
        attempt = DeliveryAttempt.objects.create(
            organization_id=channel.organization_id,
            channel_id=channel.pk,
            delivery=None,
            test=True,
            attempted_at=now,
            ok=ok,
            status_code=code,
            error=error,
            duration_ms=ms,
        )
        _keep_answer(attempt=attempt, error=failure)
    if ok:
        return True, f"{channel.name}: test delivered" + (f", HTTP {code}" if code else "") + f" in {ms:.0f} ms"
    return False, f"{channel.name}: test failed: {reason}"
