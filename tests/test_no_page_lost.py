"""No page is lost to a failing channel.

Seen before, under a storm of 60 alerts: the receiver answered 404 for 5 s; the channel was disabled
after one 4xx, and 46 of 72 notifications were never written (enqueue selected enabled channels only),
escalation pages included; re-enabling added nothing back; nobody was told. And after a worker was
killed mid-send, 2 of 72 notifications were re-sent ~100 s later with nothing to tell them apart.
"""

import datetime as dt
import os
import signal
import time

import pytest

from alerts.models import AlertHistory
from alerts.services import alert_fire
from incidents.models import IncidentUpdate
from incidents.services import incident_create
from notifications.delivery import deliveries_sweep, delivery_send
from notifications.models import NotificationChannel, NotificationDelivery
from notifications.services import channel_enable
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context

S = dt.timedelta(seconds=1)


@pytest.fixture
def hooks(world, receiver):
    """Rosewood's webhook at the receiver, and the ops team's platform webhook at another path."""
    with service_context():
        world.rose = NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="rosewood", config={"url": receiver.url + "/rose"}
        )
        world.ops = NotificationChannel.objects.create(
            kind="webhook", name="ops", config={"url": receiver.url + "/ops"}
        )
    world.receiver = receiver
    return world


def fire(org, n, *, now=WEDNESDAY, severity="warning"):
    with service_context():
        return alert_fire(
            organization_id=org.id,
            fingerprint=f"storm-{n}",
            source="alertmanager",
            title=f"storm {n}",
            labels={"alertname": f"Storm{n}"},
            annotations={},
            severity=severity,
            priority="medium",
            starts_at=now,
            now=now,
        )[0]


def rows(channel, **filters):
    with service_context():
        return list(NotificationDelivery.objects.filter(channel=channel, **filters))


def test_a_storm_against_a_receiver_answering_404_for_a_few_seconds_loses_nothing(hooks, settings):
    settings.NOTIFY_BACKOFF_BASE_S = 30.0
    alerts = [fire(hooks.org_a, n) for n in range(60)]
    assert len(rows(hooks.rose)) == 60 and len(rows(hooks.ops)) == 60  # every routed channel, every alert
    hooks.receiver.statuses = [404] * 60  # the receiver deploys: 404 for the first wave
    first = deliveries_sweep(now=WEDNESDAY, limit=500)
    assert first["delivered"] == 60 and first["retrying"] == 60
    with service_context():
        hooks.rose.refresh_from_db()
    assert hooks.rose.enabled  # one wave of 404s is not a receiver saying "never again"
    again = deliveries_sweep(now=WEDNESDAY + 60 * S, limit=500)
    assert again["delivered"] == 60
    assert {d.status for d in rows(hooks.rose)} | {d.status for d in rows(hooks.ops)} == {"delivered"}
    assert len(alerts) == 60


def test_sustained_4xx_disables_the_channel_tells_the_others_and_re_enabling_sends_what_it_held(hooks, settings):
    settings.NOTIFY_BACKOFF_BASE_S = 30.0
    settings.NOTIFY_MAX_ATTEMPTS = 10
    w = hooks
    fire(w.org_a, 1)
    (first,) = rows(w.rose)
    delivery_send(delivery_id=rows(w.ops)[0].pk, now=WEDNESDAY)  # ops works
    w.receiver.statuses = [404] * 50
    at, tried = WEDNESDAY, 0
    while True:
        result = delivery_send(delivery_id=first.pk, now=at)
        tried += 1
        with service_context():
            w.rose.refresh_from_db()
        if not w.rose.enabled or tried > 8:
            break
        at = result.next_attempt_at
    # Disabled only once at least 5 attempts over at least 15 minutes all answered 4xx.
    assert not w.rose.enabled and tried == 6 and (at - WEDNESDAY) >= dt.timedelta(minutes=15)
    assert w.rose.disabled_reason.endswith("the receiver answered HTTP 4xx to 6 attempts over 16 min")
    # A platform alert goes out through the other channels; the disabled one holds its copy.
    with service_context():
        disabled = AlertHistory.objects.get(labels__alertname="NotificationChannelDisabled")
    assert disabled.labels["channel"] == "rosewood" and disabled.organization_id == w.org_a.id
    assert [d.status for d in rows(w.ops, alert_id=disabled.pk)] == ["pending"]
    assert [d.status for d in rows(w.rose, alert_id=disabled.pk)] == ["held"]
    # While disabled, new notifications are written and held, never dropped.
    old_alert = fire(w.org_a, 2, now=at + S)
    with service_context():  # pretend this one has been held for two days
        NotificationDelivery.objects.filter(channel=w.rose, alert_id=old_alert.pk).update(
            created_at=at - dt.timedelta(days=2)
        )
    held = {d.alert_id: d.pk for d in rows(w.rose, status="held")}
    assert set(held) == {first.alert_id, disabled.pk, old_alert.pk}  # the retrying one too
    counts = channel_enable(channel=w.rose, now=at + 2 * S)
    assert counts == {"released": 2, "expired": 1}  # the one older than a day is cancelled, not sent
    statuses = {d.alert_id: (d.status, d.last_error) for d in rows(w.rose)}
    assert statuses[first.alert_id] == ("pending", "")  # sent now
    assert statuses[old_alert.pk] == ("cancelled", "held longer than 24 h while disabled")
    # The channel works again: its NotificationChannelDisabled alert resolves, and its own copy is moot.
    assert statuses[disabled.pk] == ("cancelled", "the alert resolved before this was sent")
    with service_context():
        assert AlertHistory.objects.get(pk=disabled.pk).status == "resolved"


def test_permanent_errors_by_the_receivers_own_meaning_disable_at_once(hooks):
    fire(hooks.org_a, 1)
    hooks.receiver.statuses = [410]
    delivery_send(delivery_id=rows(hooks.rose)[0].pk, now=WEDNESDAY)
    with service_context():
        hooks.rose.refresh_from_db()
    assert not hooks.rose.enabled and hooks.rose.disabled_reason.endswith("HTTP 410 Gone")


def test_a_delivery_that_fails_for_good_is_on_the_incident_timeline_and_the_saturday_dashboard(hooks, settings, client):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    with service_context():
        incident = incident_create(
            organization=hooks.org_a, title="checkout down", by=None, now=WEDNESDAY, priority="p1", severity="critical"
        )
    (delivery,) = rows(hooks.rose, incident_id=incident.pk)
    hooks.receiver.statuses = [503, 503]
    delivery_send(delivery_id=delivery.pk, now=WEDNESDAY)
    assert delivery_send(delivery_id=delivery.pk, now=WEDNESDAY + 60 * S).status == "failed"
    with service_context():
        line = IncidentUpdate.objects.filter(incident=incident, message__contains="failed after").get()
    assert line.message.startswith("Notification incident.opened to rosewood failed after 2 attempt(s): gave up")
    assert line.deliveries == [str(delivery.pk)]
    client.force_login(hooks.staff)
    html = client.get("/ops/saturday/").content.decode()
    panel = html[html.index('id="failed-notifications"') : html.index('id="notifications"')]
    assert "checkout down" in panel and "rosewood" in panel and "gave up after 2 attempts" in panel


def test_every_request_carries_the_deliverys_stable_key_and_a_repeat_a_new_one(hooks):
    alert = fire(hooks.org_a, 1)
    (delivery,) = rows(hooks.rose)
    hooks.receiver.statuses = [500]
    delivery_send(delivery_id=delivery.pk, now=WEDNESDAY)
    delivery_send(delivery_id=delivery.pk, now=WEDNESDAY + 60 * S)
    keys = [r["headers"]["X-WedSync-Delivery"] for r in hooks.receiver.requests if r["path"] == "/rose"]
    assert keys == [str(delivery.pk), str(delivery.pk)]  # a retry is the same notification
    assert hooks.receiver.requests[-1]["headers"]["Idempotency-Key"] == str(delivery.pk)
    from alerts.notify import alerts_repeat

    assert alerts_repeat(now=WEDNESDAY + dt.timedelta(hours=5)) == 1  # the delivered one, after repeat_interval
    delivery_send(delivery_id=delivery.pk, now=WEDNESDAY + dt.timedelta(hours=5))
    assert hooks.receiver.requests[-1]["headers"]["X-WedSync-Delivery"] == f"{delivery.pk}.1"
    assert alert.pk


@pytest.mark.slow
def test_a_worker_killed_mid_send_leads_to_a_re_send_with_the_same_delivery_id(hooks, celery_worker_process):
    """A real Celery worker is SIGKILLed while the receiver holds its request; the re-send carries the same key."""
    import threading

    from django.utils import timezone

    hooks.receiver.gate = threading.Event()  # hold every answer until released
    with service_context():
        NotificationChannel.objects.filter(pk=hooks.ops.pk).delete()
    now = timezone.now()
    fire(hooks.org_a, 1, now=now)  # committed (transactional test): queued to the worker on commit
    deadline = time.monotonic() + 30
    while not hooks.receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hooks.receiver.requests, "the worker never sent the notification"
    os.kill(celery_worker_process.pid, signal.SIGKILL)  # mid-send: the receiver has not answered
    celery_worker_process.wait(timeout=10)
    hooks.receiver.gate.set()
    (delivery,) = rows(hooks.rose)
    assert delivery.status == "sending"
    # Once the dead worker's claim has expired, the sweep sends it again.
    counts = deliveries_sweep(now=delivery.claimed_until + S)
    assert counts["delivered"] == 1
    keys = [r["headers"]["X-WedSync-Delivery"] for r in hooks.receiver.requests]
    assert keys == [str(delivery.pk), str(delivery.pk)]
