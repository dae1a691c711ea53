"""Routing (apm_notification_rules): matchers on labels, severity and organization → channels; wedding days."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from notifications.models import NotificationChannel, NotificationDelivery, NotificationRule, NotificationRuleChannel
from tests.conftest import SATURDAY, WEDNESDAY
from tests.factories import fire_alert
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

LABELS = {"alertname": "CheckoutSlow", "service": "payments"}


def fire(org, *, labels=LABELS, severity="warning", now=WEDNESDAY):
    return fire_alert(org, labels, severity=severity, priority="low", now=now)


def routed(alert):
    with service_context():
        return sorted(NotificationDelivery.objects.filter(alert_id=alert.pk).values_list("channel__name", flat=True))


def rule(name, matchers, channels, *, org=None, position=100, continue_matching=False):
    with service_context():
        r = NotificationRule.objects.create(
            name=name, organization=org, matchers=matchers, position=position, continue_matching=continue_matching
        )
        for ch in channels:
            NotificationRuleChannel.objects.create(rule=r, channel=ch)
    return r


@pytest.fixture
def chans(world):
    def make(name, org=None, **kw):
        return NotificationChannel.objects.create(
            organization=org, kind="webhook", name=name, config={"url": "http://127.0.0.1:9/"}, **kw
        )

    with service_context():
        world.ops = make("ops")
        world.pager = make("ops pager")
        world.emergency = make("wedding emergency", wedding_day_emergency=True)
        world.rose = make("rosewood", org=world.org_a)
        world.bloom = make("bloom", org=world.org_b)
    return world


def test_without_rules_every_channel_of_the_organization_and_the_platform_but_not_the_emergency_ones(chans):
    # Wednesday: the wedding-day emergency channel is never paged on an ordinary day.
    assert routed(fire(chans.org_a)) == ["ops", "ops pager", "rosewood"]
    # Saturday in London: the wedding-day protocol is on, so it is.
    other = dict(LABELS, alertname="Saturday")
    saturday = routed(fire(chans.org_a, labels=other, now=SATURDAY))
    assert saturday == ["ops", "ops pager", "rosewood", "wedding emergency"]


def test_first_matching_rule_wins_by_severity_and_stops(chans):
    rule(
        "critical pages", [{"name": "severity", "op": "=~", "value": "critical|emergency"}], [chans.pager], position=10
    )
    rule("everything to ops", [], [chans.ops], position=20)
    assert routed(fire(chans.org_a, severity="critical")) == ["ops pager"]
    assert routed(fire(chans.org_a, labels=dict(LABELS, alertname="Other"))) == ["ops"]


def test_continue_matching_adds_the_next_rules(chans):
    rule(
        "critical pages",
        [{"name": "severity", "op": "=", "value": "critical"}],
        [chans.pager],
        position=10,
        continue_matching=True,
    )
    rule("everything to ops", [], [chans.ops], position=20)
    assert routed(fire(chans.org_a, severity="critical")) == ["ops", "ops pager"]


def test_matchers_on_labels_and_organization(chans):
    rule(
        "rosewood payments",
        [
            {"name": "organization", "op": "=", "value": "rosewood-florals"},
            {"name": "service", "op": "=~", "value": "pay.*"},
        ],
        [chans.rose, chans.ops],
    )
    assert routed(fire(chans.org_a)) == ["ops", "rosewood"]
    # bloom: no rule matches → the default route: platform channels only
    assert routed(fire(chans.org_b, labels=dict(LABELS, alertname="Bloom"))) == ["ops", "ops pager"]


def test_a_rule_never_sends_to_another_organizations_channel(chans):
    rule("misrouted", [], [chans.bloom], org=chans.org_a)
    assert routed(fire(chans.org_a)) == []


def test_organization_rules_apply_to_their_organization_only(chans):
    rule("rosewood only", [], [chans.rose], org=chans.org_a)
    assert routed(fire(chans.org_b)) == ["bloom", "ops", "ops pager"]  # no rule in scope


def test_on_a_wedding_day_every_matching_rule_plus_the_emergency_channels(chans):
    rule("critical pages", [{"name": "severity", "op": "=", "value": "warning"}], [chans.pager], position=10)
    rule("everything to ops", [], [chans.ops], position=20)
    assert routed(fire(chans.org_a, now=WEDNESDAY)) == ["ops pager"]
    # SATURDAY: local Saturday in London → wedding-day protocol on
    other = dict(LABELS, alertname="Saturday")
    assert routed(fire(chans.org_a, labels=other, now=SATURDAY)) == ["ops", "ops pager", "wedding emergency"]


def test_a_wedding_on_a_weekday_turns_wedding_day_routing_on(chans):
    rule("ops", [], [chans.ops], position=10)
    rule("pager", [], [chans.pager], position=20)
    with service_context():
        Wedding.objects.create(
            organization=chans.org_a,
            couple_name="A & B",
            venue_name="Hall",
            wedding_date=WEDNESDAY.date(),
            status="confirmed",
        )
    assert routed(fire(chans.org_a)) == ["ops", "ops pager", "wedding emergency"]


def test_routing_rules_are_invisible_to_other_organizations_and_without_context(chans):
    rule("rosewood", [], [chans.rose], org=chans.org_a)
    rule("platform", [], [chans.ops])
    with vendor_context(chans.org_b.id):
        assert NotificationRule.objects.count() == 0
        assert NotificationRuleChannel.objects.count() == 0
    with vendor_context(chans.org_a.id):
        assert list(NotificationRule.objects.values_list("name", flat=True)) == ["rosewood"]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM apm_notification_rules")
        assert cur.fetchone()[0] == 0


def test_admin_refuses_invalid_matchers_naming_the_reason(chans):
    with service_context():
        chans.staff.user_permissions.add(
            *Permission.objects.filter(codename__in=["add_notificationrule", "view_notificationrule"])
        )
    client = Client()
    client.force_login(chans.staff)
    response = client.post(
        "/admin/notifications/notificationrule/add/",
        {
            "name": "bad",
            "position": "1",
            "matchers": json.dumps([{"name": "x", "op": "~", "value": "y"}]),
            "enabled": "on",
            "rule_channels-TOTAL_FORMS": "0",
            "rule_channels-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "must be one of =, !=, =~, !~" in response.content.decode()
