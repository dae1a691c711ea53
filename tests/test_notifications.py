"""The notification outbox: enqueue in the changing transaction, deliver to a real local HTTP receiver.

The receiver is an ``http.server`` in a thread that records every request and
answers with scripted status codes (the outside world); the database and
Redis are real. Time is passed as ``now``.
"""

import contextlib
import datetime as dt
import json
import logging
import threading

import pytest
import redis
from django.contrib.auth.models import Permission
from django.db import connection, connections
from django.test import Client

from alerts.models import AlertHistory
from incidents.services import incident_open_from_alert
from notifications.delivery import channel_send_test, deliveries_sweep, delivery_send
from notifications.models import DeliveryAttempt, NotificationChannel, NotificationDelivery
from notifications.services import deliveries_retry
from notifications.tasks import deliver_notification, deliver_pending
from notifications.transports import TransportError, Webhook, transport_for
from tests.conftest import SATURDAY, WEDNESDAY, redis_db_url
from tests.factories import make_channel, notify
from wedsync_ops.celery import app as celery_app
from wedsync_ops.tenancy.context import current_tenant_context, service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

T0 = WEDNESDAY
TEST_BROKER_DB = 13  # a Redis database of its own, so these tests never feed a running worker
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


# --- the outside world: a recording HTTP receiver ----------------------------------

# --- data ---------------------------------------------------------------------------


@pytest.fixture
def setup(world, receiver):
    """org A's webhook channel, a platform channel (both at the receiver) and a firing alert of org A."""
    world.ch_a = make_channel(world.org_a, name="A hook", config={"url": receiver.url + "/a"})
    world.ch_ops = make_channel(None, name="Ops hook", config={"url": receiver.url + "/ops"})
    with service_context():
        world.alert = _alert(world.org_a, "booking-api p95 > 800 ms")
    world.receiver = receiver
    return world


def _alert(org, title, fingerprint=None, severity="critical"):
    return AlertHistory.objects.create(
        organization=org,
        source="alertmanager",
        fingerprint=fingerprint or title,
        title=title,
        severity=severity,
        priority="high",
        labels={"alertname": "HighLatency", "service": "booking-api"},
        starts_at=T0,
        generator_url="http://prometheus.local/graph",
    )


def _enqueue(**kw):
    with service_context():
        return notify(kw.pop("event"), now=T0, **kw)


def _one_delivery_to(channel, **kw):
    (delivery,) = [d for d in _enqueue(**kw) if d.channel_id == channel.id]
    return delivery


def _stored(delivery):
    with service_context():
        return NotificationDelivery.objects.select_related("channel").get(pk=delivery.pk)


def _attempts(delivery):
    with service_context():
        return list(DeliveryAttempt.objects.filter(delivery_id=delivery.pk).order_by("id"))


@contextlib.contextmanager
def broker_at(url):
    """Point the Celery app's publisher at ``url`` for a block (the producer pools are rebuilt)."""

    def reset_pools():
        # Drop the app's references only: the pools live on in kombu's global
        # registry (keyed by URL) and must not be closed under other users.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    previous = celery_app.conf.broker_url
    reset_pools()
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        reset_pools()
        celery_app.conf.broker_url = previous


# --- enqueue ------------------------------------------------------------------------


def test_enqueue_writes_a_row_for_every_channel_of_the_org_and_the_platform_held_when_disabled(setup):
    w = setup
    off = make_channel(w.org_a, name="off", config={}, enabled=False)
    ops_off = make_channel(None, name="ops off", config={}, enabled=False)
    make_channel(w.org_b, name="B hook", config={})
    created = _enqueue(event="alert.firing", alert=w.alert)
    assert sorted(d.channel_id for d in created) == sorted([w.ch_a.id, w.ch_ops.id, off.id, ops_off.id])
    with service_context():
        rows = {d.channel_id: d for d in NotificationDelivery.objects.all()}
    assert {rows[c].status for c in (w.ch_a.id, w.ch_ops.id)} == {"pending"}
    assert {rows[c].status for c in (off.id, ops_off.id)} == {"held"}  # kept for when the channel is back
    assert all(d.attempts == 0 and d.next_attempt_at == T0 for d in rows.values())
    assert all(d.payload["delivery_id"] == str(d.pk) for d in rows.values())
    # A delivery belongs to its channel's owner: the platform channel's row is staff-only.
    assert rows[w.ch_a.id].organization_id == w.org_a.id and rows[w.ch_ops.id].organization_id is None


def test_enqueue_is_idempotent_per_channel_event_and_object(setup):
    w = setup
    assert len(_enqueue(event="alert.firing", alert=w.alert)) == 2
    assert _enqueue(event="alert.firing", alert=w.alert) == []
    assert len(_enqueue(event="alert.resolved", alert=w.alert)) == 2
    with service_context():
        assert NotificationDelivery.objects.count() == 4


def test_unassigned_alert_notifies_platform_channels_only(setup):
    with service_context():
        alert = _alert(None, "alert for an unknown org")
    created = _enqueue(event="alert.firing", alert=alert)
    assert [d.channel_id for d in created] == [setup.ch_ops.id]
    assert created[0].payload["organization"] is None


def test_alert_payload_shape(setup):
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    payload = delivery.payload
    assert payload == {
        "event": "alert.firing",
        "kind": "alert",
        "id": str(setup.alert.id),
        "title": "booking-api p95 > 800 ms",
        "status": "firing",
        "severity": "critical",
        "priority": "high",
        "organization": "rosewood-florals",
        "labels": {"alertname": "HighLatency", "service": "booking-api"},
        "starts_at": "2026-06-10T12:00:00+00:00",
        "ends_at": None,
        "url": f"http://127.0.0.1:8000/admin/alerts/alerthistory/{setup.alert.id}/change/",
        "organization_url": "http://127.0.0.1:8000/org/rosewood-florals/",
        "alert_incident_id": None,
        "generator_url": "http://prometheus.local/graph",
        "runbook_url": None,
        "delivery_id": str(delivery.pk),
    }


def test_incident_payload_carries_the_wedding(setup):
    with service_context():
        wedding = Wedding.objects.create(
            organization=setup.org_a,
            wedding_date=dt.date(2026, 6, 13),
            couple_name="Ana & Ben",
            venue_name="Kew Gardens",
            ceremony_time=dt.time(14, 30),
        )
        incident = incident_open_from_alert(alert=setup.alert, now=SATURDAY)
        (delivery,) = NotificationDelivery.objects.filter(incident_id=incident.pk, channel=setup.ch_a)
    p = delivery.payload
    assert (p["event"], p["kind"], p["id"], p["priority"]) == ("incident.opened", "incident", str(incident.id), "p0")
    assert p["title"] == "WEDDING DAY: booking-api p95 > 800 ms"
    assert p["wedding_impact"] == "wedding_day_critical"
    assert p["wedding"] == {
        "id": str(wedding.id),
        "couple_name": "Ana & Ben",
        "wedding_date": "2026-06-13",
        "venue_name": "Kew Gardens",
        "ceremony_time": "14:30:00",
    }
    assert p["labels"] == {"alertname": "HighLatency", "service": "booking-api"}
    assert p["url"].endswith(f"/ops/incidents/{incident.id}/")


def test_rolled_back_transaction_leaves_no_delivery_and_queues_nothing(setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError):
            with service_context():
                notify("alert.firing", alert=setup.alert, now=T0)
                raise RuntimeError("the alert's transaction failed")
    assert callbacks == []
    with service_context():
        assert NotificationDelivery.objects.count() == 0


def test_enqueue_from_a_vendor_context_reaches_platform_channels_and_restores_the_context(setup):
    with vendor_context(setup.org_a.id, setup.alice.pk):
        created = notify("alert.firing", alert=setup.alert, now=T0)
        ctx = current_tenant_context()
        visible = list(NotificationDelivery.objects.values_list("channel_id", flat=True))
    assert len(created) == 2
    assert (ctx.role, ctx.org_id, ctx.user_id) == ("vendor", setup.org_a.id, setup.alice.pk)
    assert visible == [setup.ch_a.id]  # the ops team's delivery is not the vendor's to see


def test_unknown_event_or_missing_object_is_refused(setup):
    with pytest.raises(ValueError, match="alert.exploded"):
        _enqueue(event="alert.exploded", alert=setup.alert)
    from notifications.services import notification_enqueue

    with pytest.raises(ValueError, match="alert or an incident"), service_context():
        notification_enqueue(event="alert.firing", organization_id=setup.org_a.id, labels={}, payload={}, now=T0)


def test_another_organization_sees_no_deliveries_or_attempts(setup):
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    delivery_send(delivery_id=delivery.pk, now=T0)
    with vendor_context(setup.org_b.id):
        assert NotificationDelivery.objects.count() == 0
        assert DeliveryAttempt.objects.count() == 0
        with connection.cursor() as cur:
            for table in ("notification_deliveries", "notification_delivery_attempts", "notification_channels"):
                cur.execute(f"SELECT count(*) FROM {table}")
                assert cur.fetchone() == (0,), table
    with vendor_context(setup.org_a.id):
        assert DeliveryAttempt.objects.count() == 1


def test_commit_publishes_the_deliveries_to_the_broker_in_chunks(setup, django_capture_on_commit_callbacks):
    url = redis_db_url(TEST_BROKER_DB)
    r = redis.Redis.from_url(url)
    with broker_at(url):
        with django_capture_on_commit_callbacks(execute=True):
            created = _enqueue(event="alert.firing", alert=setup.alert)
    # The `critical` queue (wedsync_ops/queues.py); kombu keeps each priority step in its own list.
    keys = r.keys("critical*")
    messages = [(k, m) for k in keys for m in r.lrange(k, 0, -1) if any(str(d.pk) in m.decode() for d in created)]
    try:
        # Two deliveries of one commit: one message carrying both (a storm is a few hundred, not thousands).
        ((_key, message),) = messages
        assert json.loads(message)["headers"]["task"] == "notifications.tasks.deliver_notifications"
        assert all(str(d.pk) in message.decode() for d in created)
    finally:
        for k, m in messages:
            r.lrem(k, 0, m)


# --- delivery -------------------------------------------------------------------------


def test_delivery_posts_the_json_payload_once(setup):
    rec = setup.receiver
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)

    result = delivery_send(delivery_id=delivery.pk, now=T0)
    again = delivery_send(delivery_id=delivery.pk, now=T0 + dt.timedelta(minutes=5))

    assert result.status == "delivered" and result.delivered_at == T0 and result.attempts == 1
    assert again is None
    assert len(rec.requests) == 1
    request = rec.requests[0]
    assert request["path"] == "/a"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("WedSync-Ops")
    assert rec.bodies[0] == delivery.payload
    (attempt,) = _attempts(delivery)
    assert (attempt.ok, attempt.status_code, attempt.error, attempt.attempted_at) == (True, 200, "", T0)
    assert attempt.duration_ms >= 0 and attempt.organization_id == setup.org_a.id


def test_a_500_then_a_200_is_retried_with_backoff_and_delivered(setup, settings):
    settings.NOTIFY_BACKOFF_BASE_S = 30.0
    setup.receiver.statuses = [500, 200]
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)

    first = delivery_send(delivery_id=delivery.pk, now=T0)
    assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 1, T0 + dt.timedelta(seconds=30))
    assert "HTTP 500" in first.last_error and first.claimed_until is None
    assert delivery_send(delivery_id=delivery.pk, now=T0 + dt.timedelta(seconds=29)) is None  # not due yet
    second = delivery_send(delivery_id=delivery.pk, now=T0 + dt.timedelta(seconds=30))

    assert (second.status, second.attempts, second.last_error) == ("delivered", 2, "")
    assert [(a.ok, a.status_code) for a in _attempts(delivery)] == [(False, 500), (True, 200)]
    assert len(setup.receiver.requests) == 2
    assert _stored(delivery).channel.enabled is True


def test_backoff_doubles_until_max_attempts_then_fails(setup, settings):
    settings.NOTIFY_BACKOFF_BASE_S = 30.0
    settings.NOTIFY_MAX_ATTEMPTS = 3
    setup.receiver.statuses = [503, 429, 408]
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    at = T0
    seen = []
    for _ in range(3):
        result = delivery_send(delivery_id=delivery.pk, now=at)
        seen.append((result.status, result.next_attempt_at - at))
        at = result.next_attempt_at
    assert seen[:2] == [("pending", dt.timedelta(seconds=30)), ("pending", dt.timedelta(seconds=60))]
    assert seen[2][0] == "failed"
    stored = _stored(delivery)
    assert "gave up after 3 attempts" in stored.last_error and "HTTP 408" in stored.last_error
    assert stored.channel.enabled is True  # temporary errors never disable a channel
    assert delivery_send(delivery_id=delivery.pk, now=at + dt.timedelta(hours=1)) is None


def test_410_gone_fails_at_once_and_disables_the_channel_with_a_fixed_reason(setup):
    setup.receiver.statuses = [410]
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    result = delivery_send(delivery_id=delivery.pk, now=T0)
    assert (result.status, result.attempts) == ("failed", 1)
    channel = _stored(delivery).channel
    assert channel.enabled is False and channel.disabled_reason.endswith("HTTP 410 Gone")
    assert "error 410" not in channel.disabled_reason  # never the receiver's body
    # The disabled channel's next notification is held, not dropped.
    held = [d for d in _enqueue(event="alert.resolved", alert=setup.alert) if d.channel_id == setup.ch_a.id]
    assert [d.status for d in held] == ["held"]


def test_delivery_queued_before_the_channel_was_disabled_is_held_without_sending(setup):
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    with service_context():
        NotificationChannel.objects.filter(pk=setup.ch_a.pk).update(enabled=False, disabled_reason="rotated secret")
    result = delivery_send(delivery_id=delivery.pk, now=T0)
    assert (result.status, result.attempts) == ("held", 0)
    assert setup.receiver.requests == [] and _attempts(delivery) == []


@pytest.mark.parametrize(
    "status,permanent",
    [(408, False), (429, False), (500, False), (503, False), (400, False), (401, False), (404, False), (410, True)],
)
def test_webhook_classifies_http_statuses_permanent_only_for_410(receiver, status, permanent):
    receiver.statuses = [status]
    channel = NotificationChannel(kind="webhook", name="x", config={"url": receiver.url})
    with pytest.raises(TransportError) as err:
        Webhook(channel).send({"event": "test"}, key="k")
    assert (err.value.permanent, err.value.status_code) == (permanent, status)


def test_webhook_connection_refused_is_temporary_and_bad_config_permanent(db):
    closed = NotificationChannel(kind="webhook", name="x", config={"url": "http://127.0.0.1:1/hook"})
    with pytest.raises(TransportError, match="connection failed") as err:
        Webhook(closed).send({}, key="k")
    assert err.value.permanent is False
    with pytest.raises(TransportError, match="no valid http") as err:
        Webhook(NotificationChannel(kind="webhook", name="x", config={})).send({}, key="k")
    assert err.value.permanent is True
    with pytest.raises(TransportError, match="slack channel has no valid http") as err:
        transport_for(NotificationChannel(kind="slack", name="x", config={})).send({}, key="k")
    assert err.value.permanent is True


def test_webhook_timeout_is_temporary(setup, settings):
    settings.NOTIFY_HTTP_TIMEOUT_S = 0.2
    setup.receiver.gate = threading.Event()  # the receiver does not answer in time
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    result = delivery_send(delivery_id=delivery.pk, now=T0)
    setup.receiver.gate.set()
    assert result.status == "pending" and "timed out" in result.last_error
    (attempt,) = _attempts(delivery)
    assert attempt.ok is False and attempt.status_code is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_delivery_send_it_once(setup):
    rec = setup.receiver
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    rec.gate = threading.Event()  # the first POST is held until the other worker has given up
    results = []
    start = threading.Barrier(2)

    def worker():
        try:
            start.wait(timeout=5)
            result = delivery_send(delivery_id=delivery.pk, now=T0)
            results.append(result)
            if result is None:
                rec.gate.set()
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)

    assert len(rec.requests) == 1
    assert sorted([r is None for r in results]) == [False, True]
    assert _stored(delivery).status == "delivered" and len(_attempts(delivery)) == 1


def test_worker_died_mid_send_is_resent_by_the_sweep_once(setup):
    created = _enqueue(event="alert.firing", alert=setup.alert)
    (delivery,) = [d for d in created if d.channel_id == setup.ch_a.id]
    (other,) = [d for d in created if d.channel_id == setup.ch_ops.id]
    with service_context():
        # A worker claimed both and died; one claim has expired, the other is still running.
        NotificationDelivery.objects.filter(pk=delivery.pk).update(
            status="sending", attempts=1, claimed_until=T0 - dt.timedelta(seconds=1)
        )
        NotificationDelivery.objects.filter(pk=other.pk).update(
            status="sending", attempts=1, claimed_until=T0 + dt.timedelta(minutes=1)
        )
    counts = deliveries_sweep(now=T0)
    again = deliveries_sweep(now=T0 + dt.timedelta(seconds=5))

    assert counts == {"due": 1, "delivered": 1, "retrying": 0, "failed": 0, "skipped": 0}
    assert again["due"] == 0
    assert [r["path"] for r in setup.receiver.requests] == ["/a"]
    assert (_stored(delivery).status, _stored(delivery).attempts) == ("delivered", 2)
    assert _stored(other).status == "sending"


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_enqueue_keeps_rows_and_the_sweep_delivers_them(setup, caplog):
    with broker_at(CLOSED_PORT_BROKER), caplog.at_level(logging.WARNING, logger="notifications.services"):
        with service_context():  # a real transaction: commits, then on_commit tries to publish
            alert = _alert(setup.org_a, "payments down", fingerprint="payments")
            created = notify("alert.firing", alert=alert)
    assert "broker unavailable" in caplog.text
    with service_context():
        assert AlertHistory.objects.filter(pk=alert.pk).exists()
        statuses = set(NotificationDelivery.objects.filter(alert_id=alert.pk).values_list("status", flat=True))
    assert statuses == {"pending"}
    assert len(created) == 2 and setup.receiver.requests == []

    counts = deliver_pending()  # the beat task, at the real now

    assert counts["delivered"] == 2
    assert sorted(r["path"] for r in setup.receiver.requests) == ["/a", "/ops"]
    with service_context():
        assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_deliver_notification_task_delivers_by_id(setup):
    with service_context():
        created = notify("alert.firing", alert=setup.alert)
    (delivery,) = [d for d in created if d.channel_id == setup.ch_a.id]
    assert deliver_notification(str(delivery.pk)) == "delivered"
    assert deliver_notification(str(delivery.pk)) is None
    assert len(setup.receiver.requests) == 1


def test_retry_puts_a_failed_delivery_back_with_a_fresh_budget(setup):
    setup.receiver.statuses = [500]
    delivery = _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    with service_context():
        NotificationDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=6)
    assert deliveries_retry(delivery_ids=[delivery.pk], now=T0 + dt.timedelta(hours=1)) == 1
    stored = _stored(delivery)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("pending", 0, T0 + dt.timedelta(hours=1))


# --- admin ----------------------------------------------------------------------------


@pytest.fixture
def ops(setup):
    codenames = [
        "view_notificationdelivery",
        "view_deliveryattempt",
        "view_notificationchannel",
        "change_notificationchannel",
    ]
    setup.staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(setup.staff)
    setup.client = client
    return setup


def test_admin_delivery_changelist_and_page_show_every_attempt_to_staff(ops):
    ops.receiver.statuses = [500, 200]
    delivery = _one_delivery_to(ops.ch_a, event="alert.firing", alert=ops.alert)
    delivery_send(delivery_id=delivery.pk, now=T0)
    changelist = ops.client.get("/admin/notifications/notificationdelivery/", {"status__exact": "pending"})
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert "failed HTTP 500 in" in html and "A hook" in html
    delivery_send(delivery_id=delivery.pk, now=T0 + dt.timedelta(minutes=1))
    page = ops.client.get(f"/admin/notifications/notificationdelivery/{delivery.pk}/change/").content.decode()
    assert page.count('class="field-status_code"') == 2
    assert "received HTTP 500" in page
    attempts = ops.client.get("/admin/notifications/deliveryattempt/")
    assert attempts.status_code == 200 and "received HTTP 500" in attempts.content.decode()


def test_admin_of_deliveries_is_closed_to_vendors_and_to_staff_without_permission(setup):
    _one_delivery_to(setup.ch_a, event="alert.firing", alert=setup.alert)
    vendor = Client()
    vendor.force_login(setup.alice)
    response = vendor.get("/admin/notifications/notificationdelivery/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff = Client()
    staff.force_login(setup.staff)  # is_staff, but no view permission
    assert staff.get("/admin/notifications/notificationdelivery/").status_code == 403


def test_admin_send_test_notification_reports_the_result(ops):
    ops.receiver.statuses = [200, 404]
    url = "/admin/notifications/notificationchannel/"
    ok = ops.client.post(url, {"action": "send_test_notification", "_selected_action": [str(ops.ch_a.id)]}, follow=True)
    assert "A hook: test delivered, HTTP 200" in ok.content.decode()
    assert ops.receiver.bodies[0]["event"] == "test" and ops.receiver.bodies[0]["organization"] == "rosewood-florals"
    action = {"action": "send_test_notification", "_selected_action": [str(ops.ch_a.id)]}
    bad = ops.client.post(url, action, follow=True)
    assert "A hook: test failed: HTTP 404 Not Found" in bad.content.decode()
    assert _stored_channel(ops.ch_a).enabled is True  # a test never disables a channel


def test_admin_channel_list_shows_why_a_channel_was_disabled(ops):
    with service_context():
        NotificationChannel.objects.filter(pk=ops.ch_a.pk).update(enabled=False, disabled_reason="HTTP 410 Gone")
    assert "HTTP 410 Gone" in ops.client.get("/admin/notifications/notificationchannel/").content.decode()


def test_channel_send_test_with_a_refused_connection_is_recorded(db):
    with service_context():
        channel = NotificationChannel.objects.create(kind="webhook", name="dead", config={"url": "http://127.0.0.1:1/"})
    ok, message = channel_send_test(channel=channel, now=T0)
    assert ok is False and message == "dead: test failed: the receiver could not be reached"
    with service_context():
        (attempt,) = DeliveryAttempt.objects.filter(channel=channel)
    assert (attempt.test, attempt.ok, attempt.delivery_id) == (True, False, None)
    assert "connection failed" in attempt.error  # the detail is for staff, in the admin


def _stored_channel(channel):
    with service_context():
        return NotificationChannel.objects.get(pk=channel.pk)
