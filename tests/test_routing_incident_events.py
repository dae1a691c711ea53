"""Every incident event goes through routing, and wedding-day emergency channels only while the protocol is on.

Seen before: an incident's ``incident.escalated.N``, ``incident.acknowledged`` and ``incident.resolved``
went to every enabled channel of the organization plus every platform channel (a second outbox writer
that ignored routing), and a channel flagged ``wedding_day_emergency`` was paged on an ordinary Tuesday.
"""

import datetime as dt

import pytest

from alerts.fingerprint import labels_fingerprint
from alerts.services import alert_fire
from incidents.escalation import escalations_run
from incidents.services import incident_acknowledge, incident_reopen, incident_resolve
from notifications.models import NotificationChannel, NotificationDelivery, NotificationRule, NotificationRuleChannel
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context

MIN = dt.timedelta(minutes=1)
LABELS = {"alertname": "CheckoutDown", "service": "payments", "team": "checkout"}


@pytest.fixture
def routed(world):
    """A routing rule sends team=checkout to the pager only; ops and an emergency channel exist too."""
    with service_context():
        make = lambda name, **kw: NotificationChannel.objects.create(  # noqa: E731
            kind="webhook", name=name, config={"url": "http://127.0.0.1:9/"}, **kw
        )
        world.pager, world.ops = make("checkout pager"), make("ops firehose")
        world.emergency = make("wedding emergency", wedding_day_emergency=True)
        world.bloom_emergency = make("bloom emergency", organization=world.org_b, wedding_day_emergency=True)
        rule = NotificationRule.objects.create(
            name="checkout", matchers=[{"name": "team", "op": "=", "value": "checkout"}], position=1
        )
        NotificationRuleChannel.objects.create(rule=rule, channel=world.pager)
        everything = NotificationRule.objects.create(name="everything else", matchers=[], position=9)
        NotificationRuleChannel.objects.create(rule=everything, channel=world.ops)
    return world


def fire(org, *, now):
    with service_context():
        alert, _ = alert_fire(
            organization_id=org.id,
            fingerprint=labels_fingerprint(LABELS),
            source="alertmanager",
            title="Checkout down",
            labels=LABELS,
            annotations={},
            severity="critical",
            priority="high",
            starts_at=now,
            now=now,
        )
        return alert


def events_by_channel(incident):
    with service_context():
        rows = NotificationDelivery.objects.filter(incident_id=incident.pk).select_related("channel")
        return sorted((d.event, d.step, d.channel.name) for d in rows)


def test_every_incident_event_follows_routing_on_an_ordinary_day(routed):
    alert = fire(routed.org_a, now=WEDNESDAY)
    with service_context():
        incident = alert.incident
    escalations_run(now=WEDNESDAY + 5 * MIN)  # step 1 of the built-in default
    with service_context():
        incident.refresh_from_db()
        incident_acknowledge(incident=incident, by=routed.staff, now=WEDNESDAY + 6 * MIN)
        incident_resolve(incident=incident, by=routed.staff, now=WEDNESDAY + 7 * MIN)
        incident_reopen(incident=incident, by=routed.staff, now=WEDNESDAY + 8 * MIN)
    assert events_by_channel(incident) == [
        ("incident.acknowledged", 0, "checkout pager"),
        ("incident.escalated", 1, "checkout pager"),
        ("incident.opened", 0, "checkout pager"),
        ("incident.reopened", 0, "checkout pager"),
        ("incident.resolved", 0, "checkout pager"),
    ]  # never the firehose, never the emergency channel on a Wednesday


def test_on_a_local_saturday_every_matching_rule_and_the_emergency_channels_are_paged(routed):
    alert = fire(routed.org_a, now=SATURDAY)  # Saturday noon in London
    with service_context():
        incident = alert.incident
    assert events_by_channel(incident) == [
        ("incident.opened", 0, "checkout pager"),
        ("incident.opened", 0, "ops firehose"),
        ("incident.opened", 0, "wedding emergency"),
    ]
    assert incident.priority == "p0" and incident.title.startswith("WEDDING DAY: ")


@pytest.mark.parametrize(
    ("at", "rosewood_on", "bloom_on"),
    [
        # Friday 23:00 in London is already Saturday 08:00 in Sydney.
        (dt.datetime(2026, 6, 12, 22, 0, tzinfo=dt.UTC), False, True),
        # Saturday 23:30 in London is Sunday 08:30 in Sydney.
        (dt.datetime(2026, 6, 13, 22, 30, tzinfo=dt.UTC), True, False),
    ],
)
def test_emergency_channels_follow_each_organizations_own_local_saturday(routed, at, rosewood_on, bloom_on):
    rose = fire(routed.org_a, now=at)
    bloom = fire(routed.org_b, now=at)
    with service_context():
        rose_channels = {n for _e, _s, n in events_by_channel(rose.incident)}
        bloom_channels = {n for _e, _s, n in events_by_channel(bloom.incident)}
    assert ("wedding emergency" in rose_channels) is rosewood_on
    assert ("bloom emergency" in bloom_channels) is bloom_on
    assert "bloom emergency" not in rose_channels  # another organization's channel never


def test_without_any_routing_rule_an_emergency_channel_is_still_quiet_on_a_weekday(world):
    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
        NotificationChannel.objects.create(
            kind="webhook", name="emergency", config={"url": "http://127.0.0.1:9/"}, wedding_day_emergency=True
        )
    alert = fire(world.org_a, now=WEDNESDAY)
    with service_context():
        incident = alert.incident
    assert {n for _e, _s, n in events_by_channel(incident)} == {"ops"}
