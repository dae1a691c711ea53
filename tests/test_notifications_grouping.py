"""Notification grouping of rule alerts: group_wait, group_interval, repeat_interval (Alertmanager's semantics)."""

import datetime as dt

import pytest

from alerts import conf
from alerts.evaluation import rule_group_key
from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory, AlertRule
from alerts.notify import alerts_repeat
from alerts.services import alert_acknowledge, alert_fire
from alerts.tasks import repeat_notifications
from notifications.delivery import delivery_send
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context

S = dt.timedelta(seconds=1)
KEY = '{}:{alertname="Checkout latency",organization="rosewood-florals"}'


def fire(org, service, *, now, source="rule", group_key=KEY):
    labels = {"alertname": "Checkout latency", "service": service}
    with service_context():
        return alert_fire(
            organization_id=org.id,
            fingerprint=labels_fingerprint(labels),
            source=source,
            title=f"latency {service}",
            labels=labels,
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=now,
            now=now,
            group_key=group_key,
        )[0]


def firing_delivery(alert):
    with service_context():
        return NotificationDelivery.objects.get(alert_id=alert.pk, event="alert.firing")


@pytest.fixture
def hook(world):
    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
    return world


def test_defaults_are_alertmanagers():
    assert (conf.GROUP_WAIT_S, conf.GROUP_INTERVAL_S, conf.REPEAT_INTERVAL_S) == (30, 300, 4 * 3600)


def test_rule_alerts_carry_alertmanagers_group_key():
    rule = AlertRule(name='Checkout "p95"')
    assert rule_group_key(rule=rule, organization_slug="rosewood-florals") == (
        '{}:{alertname="Checkout \\"p95\\"",organization="rosewood-florals"}'
    )


def test_a_new_group_waits_group_wait_and_joiners_go_out_with_it(hook):
    first = fire(hook.org_a, "payments", now=WEDNESDAY)
    assert firing_delivery(first).next_attempt_at == WEDNESDAY + 30 * S
    second = fire(hook.org_a, "booking", now=WEDNESDAY + 10 * S)
    assert firing_delivery(second).next_attempt_at == WEDNESDAY + 30 * S
    assert delivery_send(delivery_id=firing_delivery(first).pk, now=WEDNESDAY + 10 * S) is None  # not yet due


def test_an_alert_joining_a_notified_group_waits_for_group_interval(hook):
    first = fire(hook.org_a, "payments", now=WEDNESDAY)
    with service_context():
        NotificationDelivery.objects.filter(pk=firing_delivery(first).pk).update(
            status="delivered", delivered_at=WEDNESDAY + 30 * S, attempts=1
        )
    joiner = fire(hook.org_a, "booking", now=WEDNESDAY + 60 * S)
    assert firing_delivery(joiner).next_attempt_at == WEDNESDAY + 330 * S
    with service_context():
        NotificationDelivery.objects.filter(pk=firing_delivery(joiner).pk).update(
            status="delivered", delivered_at=WEDNESDAY + 330 * S, attempts=1
        )
    late = fire(hook.org_a, "gallery", now=WEDNESDAY + 900 * S)  # the interval since +330 s has passed: at once
    assert firing_delivery(late).next_attempt_at == WEDNESDAY + 900 * S


def test_inbound_alerts_are_timed_by_their_sender(hook):
    alert = fire(hook.org_a, "payments", now=WEDNESDAY, source="alertmanager")
    assert firing_delivery(alert).next_attempt_at == WEDNESDAY


def test_still_firing_alerts_are_repeated_after_repeat_interval_unless_acknowledged(hook):
    first = fire(hook.org_a, "payments", now=WEDNESDAY)
    second = fire(hook.org_b, "booking", now=WEDNESDAY, group_key="other")
    with service_context():
        NotificationDelivery.objects.update(status="delivered", delivered_at=WEDNESDAY + 30 * S, attempts=1)
        alert_acknowledge(alert=AlertHistory.objects.get(pk=second.pk), by=None, now=WEDNESDAY + 60 * S)
    assert alerts_repeat(now=WEDNESDAY + 4 * 3600 * S) == 0
    assert alerts_repeat(now=WEDNESDAY + (4 * 3600 + 30) * S) == 1
    repeated = firing_delivery(first)
    assert (repeated.status, repeated.attempts, repeated.payload["repeat"]) == ("pending", 0, True)
    assert firing_delivery(second).status == "delivered"
    assert repeat_notifications() == 0  # the beat task: nothing else due


def test_a_group_due_together_goes_out_as_one_notification_with_every_alert(world, receiver):
    from notifications.delivery import deliveries_sweep
    from notifications.models import DeliveryAttempt

    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": receiver.url + "/hook"})
    first = fire(world.org_a, "payments", now=WEDNESDAY)
    second = fire(world.org_a, "booking", now=WEDNESDAY + 10 * S)
    other = fire(world.org_a, "gallery", now=WEDNESDAY, group_key='{}:{alertname="Other",organization="x"}')

    with service_context():
        deliveries_sweep(now=WEDNESDAY + 31 * S)
    grouped = [b for b in receiver.bodies if "alerts" in b]
    single = [b for b in receiver.bodies if "alerts" not in b]
    assert len(receiver.requests) == 2 and len(grouped) == 1 and len(single) == 1
    assert grouped[0]["group_key"] == KEY and grouped[0]["title"] == "2 alerts firing: Checkout latency"
    assert sorted(a["id"] for a in grouped[0]["alerts"]) == sorted([str(first.id), str(second.id)])
    assert single[0]["id"] == str(other.id)
    with service_context():
        for alert in (first, second, other):
            delivery = firing_delivery(alert)
            assert delivery.status == "delivered" and DeliveryAttempt.objects.filter(delivery=delivery).count() == 1
