"""An incident's business impact (its organization's events against the same hour of the previous four weeks),
on the incident pages and the Saturday ranking; business alert rules fire and resolve through the alerts app."""

import datetime as dt

import pytest
import time_machine

from alerts.models import AlertHistory
from business.impact import impact_window, incidents_business_impact, organization_impact
from business.services import alert_rule_save, business_rules_evaluate
from incidents.services import incident_create
from tests.conftest import WEDNESDAY
from tests.factories import make_business_events
from wedsync_ops.tenancy.context import service_context, vendor_context

H = dt.timedelta(hours=1)
W = dt.timedelta(days=7)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _hour_of(org, end, *, failed=0, failed_amount="150", rsvps=0, weeks_ago=0):
    """Events spread over the hour before ``end`` (minus ``weeks_ago`` weeks)."""
    start = end - H - weeks_ago * W
    events = [
        {
            "event_type": "payment_failed",
            "timestamp": start + dt.timedelta(minutes=1 + i % 58),
            "revenue_impact": failed_amount,
            "currency": "GBP",
        }
        for i in range(failed)
    ]
    events += [
        {"event_type": "rsvp_submitted", "timestamp": start + dt.timedelta(minutes=1 + i % 58)} for i in range(rsvps)
    ]
    if events:
        make_business_events(org, events, now=end)


@pytest.fixture
def normal_weeks(world):
    """org_a's normal, the hour before WEDNESDAY: 1 failed payment and 10 RSVPs an hour, four weeks running."""
    for week in range(1, 5):
        _hour_of(world.org_a, WEDNESDAY, failed=1, failed_amount="165", rsvps=10, weeks_ago=week)
    return world


def test_failed_payments_above_normal_and_a_drop_in_rsvps_are_named_with_money(normal_weeks):
    world = normal_weeks
    _hour_of(world.org_a, WEDNESDAY, failed=15, failed_amount="165", rsvps=4)
    with vendor_context(world.org_a.id):
        impact = organization_impact(organization_id=world.org_a.id, start=WEDNESDAY - H, end=WEDNESDAY)
    assert impact.baseline_weeks == 4
    # 15 failed (£2,475) against a normal of 1 (£165): 14 and £2,310 above normal.
    assert [line.text for line in impact.lines] == [
        "payments failing: 14 (£2,310) above normal",
        "RSVP submissions \u221260%",
    ]
    assert impact.lines[1].baseline == 10 and impact.lines[1].current == 4


def test_business_as_usual_shows_no_line_and_another_organization_sees_nothing(normal_weeks):
    world = normal_weeks
    _hour_of(world.org_a, WEDNESDAY, failed=2, rsvps=9)
    with vendor_context(world.org_a.id):
        assert organization_impact(organization_id=world.org_a.id, start=WEDNESDAY - H, end=WEDNESDAY).lines == ()
    with vendor_context(world.org_b.id):  # RLS: org_b reads none of org_a's events, so no baseline at all
        impact = organization_impact(organization_id=world.org_a.id, start=WEDNESDAY - H, end=WEDNESDAY)
    assert impact.baseline_weeks == 0 and impact.lines == ()


def test_the_baseline_averages_only_the_weeks_with_data(world):
    # Only two weeks ago had events (20 RSVPs): the normal is 20, not 20 / 4.
    _hour_of(world.org_a, WEDNESDAY, rsvps=20, weeks_ago=2)
    _hour_of(world.org_a, WEDNESDAY, rsvps=10)
    with service_context():
        impact = organization_impact(organization_id=world.org_a.id, start=WEDNESDAY - H, end=WEDNESDAY)
    assert impact.baseline_weeks == 1
    assert [line.text for line in impact.lines] == ["RSVP submissions \u221250%"]


def test_the_window_is_the_last_hour_while_open_and_the_hour_before_resolution_after(world):
    detected = WEDNESDAY - 3 * H
    assert impact_window(detected_at=detected, resolved_at=None, now=WEDNESDAY) == (WEDNESDAY - H, WEDNESDAY)
    assert impact_window(detected_at=detected, resolved_at=detected + H, now=WEDNESDAY) == (detected, detected + H)


def _incident(world, org):
    with service_context():
        return incident_create(
            organization=org,
            title="Payments failing",
            by=None,
            now=WEDNESDAY - 10 * dt.timedelta(minutes=1),
            severity="critical",
            priority="p1",
        )


def test_the_incident_pages_and_the_saturday_ranking_show_the_impact(normal_weeks, client):
    world = normal_weeks
    _hour_of(world.org_a, WEDNESDAY, failed=15, failed_amount="165", rsvps=4)
    incident = _incident(world, world.org_a)
    with service_context():
        assert incidents_business_impact(incidents=[incident], now=WEDNESDAY)[incident.id].lines
    with time_machine.travel(WEDNESDAY, tick=False):
        client.force_login(world.staff)
        page = client.get(f"/ops/incidents/{incident.id}/").content.decode()
        assert 'id="business-impact"' in page and "payments failing: 14 (£2,310) above normal" in page
        assert "RSVP submissions \u221260%" in page
        saturday = client.get("/ops/saturday/").content.decode()
        assert "business: payments failing: 14 (£2,310) above normal · RSVP submissions \u221260%" in saturday
        client.force_login(world.alice)
        page = client.get(f"/org/{world.org_a.slug}/incidents/{incident.id}/").content.decode()
        assert "payments failing: 14 (£2,310) above normal" in page
        client.force_login(world.bob)  # the outsider: 404, and no impact anywhere
        response = client.get(f"/org/{world.org_a.slug}/incidents/{incident.id}/")
        assert response.status_code == 404 and "payments failing" not in response.content.decode()


def test_a_platform_wide_incident_has_no_business_impact_card(world, client):
    with service_context():
        incident = incident_create(organization=None, title="Redis down", by=None, now=WEDNESDAY)
    client.force_login(world.staff)
    with time_machine.travel(WEDNESDAY, tick=False):
        assert 'id="business-impact"' not in client.get(f"/ops/incidents/{incident.id}/").content.decode()


def _business_alerts():
    with service_context():
        return list(AlertHistory.objects.filter(source=AlertHistory.Source.BUSINESS).order_by("starts_at"))


def test_a_drop_beyond_the_threshold_fires_once_and_resolves_when_back_to_normal(normal_weeks):
    world = normal_weeks
    with service_context():
        rule = alert_rule_save(
            organization=world.org_a,
            name="RSVPs dropping",
            event_type="rsvp_submitted",
            threshold_percent=50,
            min_baseline=5,
            severity="warning",
            priority="medium",
        )
        alert_rule_save(organization=world.org_b, name="RSVPs dropping", event_type="rsvp_submitted")
    _hour_of(world.org_a, WEDNESDAY, rsvps=3)
    with service_context():
        assert business_rules_evaluate(now=WEDNESDAY) == {"evaluated": 2, "breaching": 1, "fired": 1, "resolved": 0}
    (alert,) = _business_alerts()
    assert alert.organization_id == world.org_a.id and alert.status == "firing"
    assert alert.labels["alertname"] == "BusinessEventDrop" and alert.labels["business_rule"] == str(rule.pk)
    assert alert.value == 3 and alert.threshold == 5.0
    assert "RSVP submissions -70%" in alert.title
    with service_context():  # five minutes later, still down (the 3 RSVPs left the window): touched, not twice
        assert business_rules_evaluate(now=WEDNESDAY + dt.timedelta(minutes=5))["fired"] == 0
    (alert,) = _business_alerts()
    assert alert.value == 0 and alert.status == "firing"
    # The next week's hour is back to normal (10 RSVPs against the same baseline): resolved.
    _hour_of(world.org_a, WEDNESDAY + W, rsvps=10)  # baseline (3 + 10 + 10 + 10) / 4 = 8.25
    with service_context():
        result = business_rules_evaluate(now=WEDNESDAY + W)
    assert result["resolved"] == 1
    assert _business_alerts()[0].status == "resolved"


def test_a_rise_in_failed_payments_fires_a_critical_alert_that_opens_an_incident(world):
    with service_context():
        alert_rule_save(
            organization=world.org_a,
            name="Failed payments rising",
            event_type="payment_failed",
            direction="rise",
            threshold_percent=200,
            min_baseline=2,
            severity="critical",
            priority="high",
        )
    _hour_of(world.org_a, WEDNESDAY, rsvps=3, weeks_ago=1)  # a week with data, no failed payments: normal 0
    _hour_of(world.org_a, WEDNESDAY, failed=5)
    with service_context():
        assert business_rules_evaluate(now=WEDNESDAY)["fired"] == 0  # 5 < max(0, 2) x 3
    _hour_of(world.org_a, WEDNESDAY, failed=1)
    with service_context():
        assert business_rules_evaluate(now=WEDNESDAY)["fired"] == 1
    (alert,) = _business_alerts()
    assert alert.severity == "critical" and alert.incident_id is not None
    assert "up from none" in alert.title


def test_without_any_baseline_week_no_rule_fires(world):
    with service_context():
        alert_rule_save(organization=world.org_a, name="RSVPs dropping", event_type="rsvp_submitted", min_baseline=0)
        alert_rule_save(organization=world.org_a, name="Failed rising", event_type="payment_failed", direction="rise")
    _hour_of(world.org_a, WEDNESDAY, failed=40)
    with service_context():
        assert business_rules_evaluate(now=WEDNESDAY)["breaching"] == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"event_type": "tea"}, "event_type"),
        ({"direction": "sideways"}, "direction"),
        ({"threshold_percent": 150}, "threshold_percent"),
        ({"window_minutes": 2}, "window_minutes"),
        ({"min_baseline": -1}, "min_baseline"),
    ],
)
def test_a_bad_alert_rule_is_refused_naming_the_field(world, fields, field):
    from django.core.exceptions import ValidationError

    args = {"organization": world.org_a, "name": "r", "event_type": "rsvp_submitted", **fields}
    with pytest.raises(ValidationError) as exc, service_context():
        alert_rule_save(**args)
    assert field in exc.value.message_dict


def test_the_beat_task_evaluates_the_rules(normal_weeks, time_machine):
    from business import tasks

    with service_context():
        alert_rule_save(organization=normal_weeks.org_a, name="RSVPs dropping", event_type="rsvp_submitted")
    time_machine.move_to(WEDNESDAY, tick=False)
    assert tasks.evaluate_rules.apply().get() == {"evaluated": 1, "breaching": 1, "fired": 1, "resolved": 0}
