"""Silences and maintenance windows (suppression_rules): Alertmanager matchers, states, muting, release, admin."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from alerts.models import AlertHistory, SuppressionRule
from alerts.services import alert_resolve
from alerts.silences import suppression_rule_create, suppressions_apply
from alerts.suppression import Matcher, maintenance_active, parse_matchers, rule_state
from alerts.tasks import apply_suppressions
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from tests.factories import fire_alert
from wedsync_ops.tenancy.context import service_context, vendor_context

LABELS = {
    "alertname": "HighCheckoutLatency",
    "organization": "rosewood-florals",
    "service": "payments",
    "severity": "warning",
}
HOUR = dt.timedelta(hours=1)


def fire(org, *, labels=LABELS, now=WEDNESDAY, severity="warning"):
    return fire_alert(org, labels, severity=severity, now=now)


def silence(matchers, *, org=None, start=WEDNESDAY - HOUR, end=WEDNESDAY + HOUR, now=WEDNESDAY, **kw):
    with service_context():
        return suppression_rule_create(
            kind="silence",
            matchers=matchers,
            organization_id=org.id if org else None,
            starts_at=start,
            ends_at=end,
            now=now,
            comment="deploy",
            **kw,
        )


def deliveries():
    with service_context():
        titles = dict(AlertHistory.objects.values_list("pk", "title"))
        return sorted(
            (event, titles.get(alert_id))
            for event, alert_id in NotificationDelivery.objects.exclude(status="cancelled").values_list(
                "event", "alert_id"
            )
        )


def reload(alert):
    with service_context():
        return AlertHistory.objects.get(pk=alert.pk)


@pytest.fixture
def channels(world):
    with service_context():
        NotificationChannel.objects.create(
            organization=None, kind="webhook", name="ops hook", config={"url": "http://127.0.0.1:9/ops"}
        )
    return world


# --- matchers (Alertmanager's semantics) -------------------------------------------


@pytest.mark.parametrize(
    ("name", "op", "value", "labels", "expected"),
    [
        ("service", "=", "payments", {"service": "payments"}, True),
        ("service", "=", "payments", {"service": "payments-2"}, False),
        ("service", "!=", "payments", {"service": "booking"}, True),
        ("service", "!=", "payments", {"service": "payments"}, False),
        ("service", "=~", "pay.*", {"service": "payments"}, True),
        ("service", "=~", "pay", {"service": "payments"}, False),  # anchored: not a substring search
        ("service", "=~", "api|web", {"service": "web"}, True),
        ("service", "=~", "api|web", {"service": "web-2"}, False),  # ^(?:api|web)$, not ^api|web$
        ("service", "!~", "pay.*", {"service": "payments"}, False),
        ("service", "!~", "pay", {"service": "payments"}, True),
        ("env", "=", "", {"service": "payments"}, True),  # a missing label is ""
        ("env", "!=", "prod", {"service": "payments"}, True),
        ("env", "=~", ".*", {}, True),
        ("env", "=~", ".+", {}, False),
        ("env", "!~", ".+", {}, True),
        ("env", "=", "prod", {}, False),
    ],
)
def test_matcher_table(name, op, value, labels, expected):
    assert Matcher(name, op, value).matches(labels) is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("service=x", "must be a list"),
        ([{"op": "=", "value": "x"}], "matchers[0].name"),
        ([{"name": "1bad", "op": "=", "value": "x"}], "matchers[0].name"),
        ([{"name": "a", "op": "==", "value": "x"}], "matchers[0].op"),
        ([{"name": "a", "op": "=~", "value": "("}], "invalid regex"),
        ([{"name": "a", "op": "=", "value": 3}], "matchers[0].value"),
    ],
)
def test_invalid_matchers_are_refused_naming_the_item(raw, message):
    with pytest.raises(ValidationError) as info:
        parse_matchers(raw)
    assert message in str(info.value.message_dict["matchers"])


def test_silence_states_pending_active_expired():
    rule = SuppressionRule(kind="silence", starts_at=WEDNESDAY, ends_at=WEDNESDAY + HOUR)
    assert rule_state(rule, WEDNESDAY - dt.timedelta(seconds=1)) == "pending"
    assert rule_state(rule, WEDNESDAY) == "active"
    assert rule_state(rule, WEDNESDAY + HOUR) == "expired"


# --- silences mute -----------------------------------------------------------------


def test_silenced_alert_is_recorded_as_suppressed_and_not_notified(channels):
    rule = silence(
        [
            {"name": "alertname", "op": "=", "value": "HighCheckoutLatency"},
            {"name": "service", "op": "=~", "value": "pay.*"},
        ]
    )
    alert = reload(fire(channels.org_a))
    assert alert.status == "suppressed"
    assert alert.suppressed_by_id == rule.id
    assert "silenced by" in alert.suppression_reason
    assert deliveries() == []


def test_alert_not_matched_or_outside_the_silence_is_notified(channels):
    silence([{"name": "service", "op": "=", "value": "booking"}])
    silence([{"name": "service", "op": "=", "value": "payments"}], start=WEDNESDAY + HOUR, end=WEDNESDAY + 2 * HOUR)
    silence([{"name": "service", "op": "=", "value": "payments"}], start=WEDNESDAY - 2 * HOUR, end=WEDNESDAY)
    alert = reload(fire(channels.org_a))
    assert alert.status == "firing"
    assert deliveries() == [("alert.firing", "HighCheckoutLatency")]


def test_organization_silence_mutes_only_its_organization(channels):
    silence([{"name": "alertname", "op": "=", "value": "HighCheckoutLatency"}], org=channels.org_b)
    assert reload(fire(channels.org_a)).status == "firing"
    other = dict(LABELS, organization="bloom-and-vine")
    assert reload(fire(channels.org_b, labels=other)).status == "suppressed"


def test_resolving_a_suppressed_alert_notifies_nobody(channels):
    silence([{"name": "service", "op": "=", "value": "payments"}])
    alert = fire(channels.org_a)
    with service_context():
        alert_resolve(alert=reload(alert), ends_at=WEDNESDAY + HOUR, now=WEDNESDAY + HOUR)
    assert reload(alert).status == "resolved"
    assert deliveries() == []


def test_creating_a_silence_suppresses_open_firing_alerts_and_expiry_releases_them_with_one_notification(channels):
    alert = fire(channels.org_a)
    assert deliveries() == [("alert.firing", "HighCheckoutLatency")]
    silence([{"name": "alertname", "op": "=", "value": "HighCheckoutLatency"}])
    assert reload(alert).status == "suppressed"
    with service_context():
        assert suppressions_apply(now=WEDNESDAY + 30 * dt.timedelta(minutes=1)) == {"suppressed": 0, "released": 0}
        assert suppressions_apply(now=WEDNESDAY + HOUR) == {"suppressed": 0, "released": 1}
    released = reload(alert)
    assert (released.status, released.suppressed_by_id, released.suppression_reason) == ("firing", None, "")
    assert deliveries() == [("alert.firing", "HighCheckoutLatency")]  # the outbox key: one per channel and event


def test_alert_muted_from_the_start_is_notified_when_its_silence_expires(channels):
    silence([{"name": "service", "op": "=", "value": "payments"}])
    alert = fire(channels.org_a)
    assert deliveries() == []
    with service_context():
        suppressions_apply(now=WEDNESDAY + HOUR)
    assert reload(alert).status == "firing"
    assert deliveries() == [("alert.firing", "HighCheckoutLatency")]


def test_apply_suppressions_task_runs_in_a_service_context(channels):
    alert = fire(channels.org_a)
    with service_context():
        SuppressionRule.objects.create(
            kind="silence",
            matchers=[{"name": "service", "op": "=", "value": "payments"}],
            starts_at=WEDNESDAY - HOUR,
            ends_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
        )
    assert apply_suppressions() == {"suppressed": 1, "released": 0}
    assert reload(alert).status == "suppressed"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            dict(
                kind="silence",
                matchers=[{"name": "a", "op": "=", "value": "b"}],
                starts_at=WEDNESDAY,
                ends_at=WEDNESDAY,
            ),
            "ends_at",
        ),
        (dict(kind="silence", matchers=[], starts_at=WEDNESDAY, ends_at=WEDNESDAY + HOUR), "matchers"),
        (dict(kind="maintenance", matchers=[], weekdays=[0], start_time=dt.time(1), end_time=dt.time(2)), "weekdays"),
        (
            dict(
                kind="maintenance",
                matchers=[],
                weekdays=[1],
                start_time=dt.time(1),
                end_time=dt.time(2),
                timezone_name="Mars/Olympus",
            ),
            "timezone",
        ),
        (dict(kind="inhibition", matchers=[{"name": "a", "op": "=", "value": "b"}]), "source_matchers"),
        (dict(kind="nap", matchers=[]), "kind"),
    ],
)
def test_invalid_suppression_rules_are_refused_before_anything_is_written(world, kwargs, field):
    with service_context():
        with pytest.raises(ValidationError) as info:
            suppression_rule_create(now=WEDNESDAY, **kwargs)
        assert field in info.value.message_dict
        assert not SuppressionRule.objects.exists()


# --- maintenance windows -----------------------------------------------------------


@pytest.mark.parametrize(
    ("weekdays", "start", "end", "tz", "at", "expected"),
    [
        # Wednesday 2026-06-10 12:00 UTC is 13:00 in London (BST).
        ([3], dt.time(12, 30), dt.time(14), "Europe/London", WEDNESDAY, True),
        ([3], dt.time(12, 30), dt.time(14), "UTC", WEDNESDAY, False),
        ([1, 2, 4, 5, 6, 7], dt.time(0), dt.time(23, 59), "Europe/London", WEDNESDAY, False),
        # 22:00 Wednesday London until 02:00 Thursday: 01:00 London on Thursday is inside.
        ([3], dt.time(22), dt.time(2), "Europe/London", dt.datetime(2026, 6, 11, 0, 0, tzinfo=dt.UTC), True),
        ([3], dt.time(22), dt.time(2), "Europe/London", dt.datetime(2026, 6, 11, 1, 0, tzinfo=dt.UTC), False),
        ([4], dt.time(22), dt.time(2), "Europe/London", dt.datetime(2026, 6, 11, 0, 0, tzinfo=dt.UTC), False),
        # 12:00 UTC Wednesday is 22:00 Wednesday in Sydney (AEST).
        ([3], dt.time(21), dt.time(23), "Australia/Sydney", WEDNESDAY, True),
    ],
)
def test_maintenance_window_table_in_local_time(weekdays, start, end, tz, at, expected):
    rule = SuppressionRule(kind="maintenance", weekdays=weekdays, start_time=start, end_time=end, timezone=tz)
    assert maintenance_active(rule, at) is expected


def test_maintenance_window_mutes_inside_and_not_outside(channels):
    with service_context():
        suppression_rule_create(
            kind="maintenance",
            name="Wednesday deploys",
            matchers=[{"name": "service", "op": "=", "value": "payments"}],
            weekdays=[3],
            start_time=dt.time(12, 30),
            end_time=dt.time(14),
            timezone_name="Europe/London",
            now=WEDNESDAY,
        )
    inside = reload(fire(channels.org_a))
    assert (inside.status, inside.suppression_reason) == ("suppressed", "maintenance window Wednesday deploys")
    later = dict(LABELS, alertname="Other")
    assert reload(fire(channels.org_a, labels=later, now=WEDNESDAY + 2 * HOUR)).status == "firing"


# --- tenancy ------------------------------------------------------------------------


def test_suppression_rules_are_invisible_to_other_organizations_and_without_context(world):
    silence([{"name": "service", "op": "=", "value": "payments"}], org=world.org_a)
    silence([{"name": "service", "op": "=", "value": "payments"}])  # platform-wide
    with vendor_context(world.org_b.id):
        assert SuppressionRule.objects.count() == 0
    with vendor_context(world.org_a.id):
        assert SuppressionRule.objects.count() == 1
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM suppression_rules")
        assert cur.fetchone()[0] == 0


# --- admin: "silence this" with a preview ------------------------------------------------


def staff_client(world):
    models = ("suppressionrule", "alerthistory")
    codenames = [f"{verb}_{model}" for verb in ("view", "add", "change") for model in models]
    with service_context():
        world.staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(world.staff)
    return client


def test_staff_silence_this_prefills_matchers_and_previews_the_matching_open_alerts(channels):
    alert = fire(channels.org_a)
    other = fire(channels.org_a, labels=dict(LABELS, alertname="Unrelated", service="booking"))
    client = staff_client(channels)
    response = client.post(
        "/admin/alerts/alerthistory/", {"action": "silence_selected", "_selected_action": [str(alert.pk)]}
    )
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith("/admin/alerts/suppressionrule/add/")
    query = parse_qs(urlsplit(url).query)
    assert 'alertname="HighCheckoutLatency"' in query["matchers"][0]  # Alertmanager syntax, not JSON
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Preview: open alerts these matchers match now" in html
    assert f"/admin/alerts/alerthistory/{alert.pk}/change/" in html
    assert f"/admin/alerts/alerthistory/{other.pk}/change/" not in html
    assert "HighCheckoutLatency" in html


def test_staff_create_a_silence_in_admin_and_it_mutes_the_open_alert(channels):
    alert = fire(channels.org_a)
    client = staff_client(channels)
    now = dt.datetime.now(dt.UTC)
    response = client.post(
        "/admin/alerts/suppressionrule/add/",
        {
            "kind": "silence",
            "name": "deploy",
            "organization": str(channels.org_a.id),
            "matchers": 'service="payments"',
            "enabled": "on",
            "comment": "deploying",
            "starts_at_0": (now - HOUR).strftime("%Y-%m-%d"),
            "starts_at_1": (now - HOUR).strftime("%H:%M:%S"),
            "ends_at_0": (now + HOUR).strftime("%Y-%m-%d"),
            "ends_at_1": (now + HOUR).strftime("%H:%M:%S"),
            "timezone": "UTC",
            "source_matchers": "",
            "equal_labels": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with service_context():
        rule = SuppressionRule.objects.get()
    assert rule.created_by_id == channels.staff.id
    assert reload(alert).status == "suppressed"


def test_admin_refuses_a_bad_regex_with_the_field_named(world):
    client = staff_client(world)
    response = client.post(
        "/admin/alerts/suppressionrule/add/",
        {
            "kind": "silence",
            "matchers": 'service=~"("',
            "starts_at_0": "2026-06-10",
            "starts_at_1": "10:00:00",
            "ends_at_0": "2026-06-10",
            "ends_at_1": "11:00:00",
            "timezone": "UTC",
            "source_matchers": "",
            "equal_labels": "",
        },
    )
    assert response.status_code == 200
    assert "invalid regex" in response.content.decode()
    with service_context():
        assert not SuppressionRule.objects.exists()


def test_vendors_cannot_reach_the_suppression_admin(world):
    client = Client()
    client.force_login(world.alice)
    response = client.get("/admin/alerts/suppressionrule/")
    assert response.status_code == 302 and "/login/" in response["Location"]
