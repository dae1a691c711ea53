"""Inhibition rules (suppression_rules, kind inhibition): source matchers, target matchers, equal labels."""

import datetime as dt

import pytest

from alerts.models import AlertHistory
from alerts.services import alert_resolve
from alerts.silences import suppression_rule_create, suppressions_apply
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from tests.factories import fire_alert
from wedsync_ops.tenancy.context import service_context

CRITICAL = {"alertname": "PaymentsDown", "service": "payments", "severity": "critical"}
WARNING = {"alertname": "CheckoutSlow", "service": "payments", "severity": "warning"}


def fire(org, labels, *, now=WEDNESDAY):
    return fire_alert(org, labels, now=now)


def status(alert):
    with service_context():
        return AlertHistory.objects.get(pk=alert.pk).status


@pytest.fixture
def inhibit(world):
    with service_context():
        NotificationChannel.objects.create(
            organization=None, kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/ops"}
        )
        suppression_rule_create(
            kind="inhibition",
            name="critical mutes warnings of its service",
            source_matchers=[{"name": "severity", "op": "=", "value": "critical"}],
            matchers=[{"name": "severity", "op": "=~", "value": "warning|info"}],
            equal_labels=["service"],
            now=WEDNESDAY,
        )
    return world


@pytest.mark.parametrize(
    ("source", "target", "inhibited"),
    [
        (CRITICAL, WARNING, True),
        (CRITICAL, dict(WARNING, service="booking"), False),  # equal label differs
        (CRITICAL, dict(WARNING, severity="info"), True),
        (CRITICAL, dict(WARNING, severity="critical", alertname="Other"), False),  # not a target
        (dict(CRITICAL, severity="warning", alertname="NotCritical"), WARNING, False),  # not a source
        ({"alertname": "NoService", "severity": "critical"}, {"alertname": "NoSvc", "severity": "warning"}, True),
        # equal label missing on one side only: "" vs "payments"
        ({"alertname": "NoService", "severity": "critical"}, WARNING, False),
    ],
)
def test_inhibition_matcher_table(inhibit, source, target, inhibited):
    fire(inhibit.org_a, source)
    target_alert = fire(inhibit.org_a, target, now=WEDNESDAY + dt.timedelta(seconds=1))
    assert status(target_alert) == ("suppressed" if inhibited else "firing")


def test_source_in_another_organization_does_not_inhibit(inhibit):
    fire(inhibit.org_b, CRITICAL)
    assert status(fire(inhibit.org_a, WARNING)) == "firing"


def test_inhibited_alert_is_not_notified_and_is_released_when_the_source_resolves(inhibit):
    source = fire(inhibit.org_a, CRITICAL)
    target = fire(inhibit.org_a, WARNING)
    with service_context():
        assert list(NotificationDelivery.objects.filter(alert_id=target.pk)) == []
        assert "inhibited by critical mutes warnings" in AlertHistory.objects.get(pk=target.pk).suppression_reason
        later = WEDNESDAY + dt.timedelta(minutes=5)
        alert_resolve(alert=source, ends_at=later, now=later)
        assert suppressions_apply(now=WEDNESDAY + dt.timedelta(minutes=6)) == {"suppressed": 0, "released": 1}
        assert NotificationDelivery.objects.filter(alert_id=target.pk, event="alert.firing").count() == 1
    assert status(target) == "firing"


def test_a_suppressed_alert_does_not_inhibit(inhibit):
    with service_context():
        suppression_rule_create(
            kind="silence",
            matchers=[{"name": "alertname", "op": "=", "value": "PaymentsDown"}],
            starts_at=WEDNESDAY - dt.timedelta(hours=1),
            ends_at=WEDNESDAY + dt.timedelta(hours=1),
            now=WEDNESDAY,
        )
    source = fire(inhibit.org_a, CRITICAL)
    assert status(source) == "suppressed"
    assert status(fire(inhibit.org_a, WARNING)) == "firing"
