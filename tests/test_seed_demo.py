"""``manage.py seed_demo``: demo data, idempotent, run as the application role in the service context.

Seeded around a Wednesday, so wedding-day mode comes from the weddings it
puts on each organization's local today, not from a Saturday.
"""

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from alerts.models import AlertHistory, AlertRule
from apm.models import (
    ApiPerformance,
    ApmMetric,
    ApmMetricAggregation,
    CoreWebVitals,
    ErrorCorrelation,
    UserJourneyPerformance,
)
from business.models import BusinessAlertRule, BusinessEvent, ConversionFunnel, ConversionFunnelStep, UserSegment
from heartbeats.models import HeartbeatCheck, HeartbeatFlip, HeartbeatPing
from incidents.models import Incident
from notifications.models import NotificationChannel, NotificationDelivery
from wedsync_ops.pages import selectors
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization, UserProfile, Wedding

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)  # a Wednesday everywhere from UTC-12 to UTC+11
MINUTES, SAMPLES = 120, 2
HOOK = "http://127.0.0.1:9/demo-hook"
MODELS = (
    Organization,
    Wedding,
    UserProfile,
    ApmMetric,
    ApmMetricAggregation,
    AlertRule,
    AlertHistory,
    Incident,
    NotificationChannel,
    NotificationDelivery,
)
MODELS += (HeartbeatCheck, HeartbeatPing, HeartbeatFlip)
MODELS += (BusinessEvent, ConversionFunnel, UserSegment, BusinessAlertRule)
BUSINESS_WEEKS = 1


def seed(*extra, quiet=True):
    out = io.StringIO()
    args = [
        "--now",
        NOW.isoformat(),
        "--minutes",
        str(MINUTES),
        "--samples",
        str(SAMPLES),
        "--business-weeks",
        str(BUSINESS_WEEKS),
        *extra,
    ]
    call_command("seed_demo", *args, *(["--quiet"] if quiet else []), stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    with service_context():
        result = {m.__name__: m.objects.count() for m in MODELS}
    result["User"] = get_user_model().objects.count()
    result["Group"] = Group.objects.count()
    return result


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.setenv("DEMO_WEBHOOK_URL", HOOK)
    seed()
    return counts()


def test_seed_demo_twice_leaves_every_count_unchanged(seeded):
    assert seeded["Organization"] == 20
    with service_context():
        latency_points = ApmMetric.objects.filter(tags__contains={"source": "seed_demo"}).count()
        performance = {m.__name__: m.objects.count() for m in (ApiPerformance, CoreWebVitals, UserJourneyPerformance)}
        correlations = ErrorCorrelation.objects.count()
    assert latency_points == 20 * 4 * MINUTES * (SAMPLES + 1)
    # Issue 18: endpoints, web vitals and journeys of the six organizations with a wedding today, rolled up.
    assert seeded["ApmMetric"] > latency_points and all(n > 0 for n in performance.values()), performance
    assert correlations >= 6
    assert seeded["ApmMetricAggregation"] > 0 and seeded["AlertHistory"] >= 4 and seeded["Incident"] >= 2
    assert seeded["NotificationDelivery"] > 0

    output = seed(quiet=False)

    assert counts() == seeded
    assert "already seeded" in output  # metrics skipped per organization
    assert "ops / ops-demo-pass" in output and "rosewood / rosewood-demo-pass" in output
    assert "http://127.0.0.1:8000/" in output


def test_seed_demo_puts_weddings_on_local_today_in_organizations_of_at_least_four_time_zones(seeded):
    with service_context():
        today = selectors.weddings_today(now=NOW)
        in_mode = selectors.organizations_in_wedding_day_mode(now=NOW)
        zones = set(Organization.objects.values_list("timezone", flat=True))
        cancelled = Wedding.objects.filter(status=Wedding.Status.CANCELLED).count()
        saturdays = set(Wedding.objects.values_list("wedding_date", flat=True).filter(wedding_date__week_day=7))
    orgs_today = {row.organization.slug for row in today}
    assert {"rosewood-florals", "acme-weddings", "bloom-and-vine"} <= orgs_today
    assert len(orgs_today) >= 4
    assert len({row.organization.timezone for row in today}) >= 4
    # Each of those weddings is on its organization's local date, which differs across zones.
    assert all(row.wedding.wedding_date == NOW.astimezone(row.organization.tz).date() for row in today)
    assert {r.slug for r in in_mode} >= orgs_today
    assert len(zones) >= 7
    assert cancelled >= 2
    assert len(saturdays) >= 4


def test_seed_demo_creates_the_demo_logins_with_their_roles(seeded):
    User = get_user_model()
    ops = User.objects.get(username="ops")
    assert ops.is_staff and ops.is_superuser and ops.check_password("ops-demo-pass")
    assert ops.groups.filter(name="ops_admin").exists()
    with service_context():
        rosewood = UserProfile.objects.select_related("organization", "user").get(user__username="rosewood")
        viewer = UserProfile.objects.select_related("organization").get(user__username="bloom")
    assert rosewood.organization.slug == "rosewood-florals" and rosewood.role == "owner"
    assert rosewood.user.check_password("rosewood-demo-pass") and not rosewood.user.is_staff
    assert viewer.role == "viewer" and viewer.organization.slug != "rosewood-florals"


def test_seed_demo_fires_alerts_through_the_services_with_a_wedding_day_incident_and_webhook(seeded):
    with service_context():
        spike = AlertHistory.objects.select_related("incident").get(
            organization__slug="acme-weddings", labels__alertname="Platform p95 latency"
        )
        unassigned = AlertHistory.objects.filter(organization=None, status="firing").exists()
        channel = NotificationChannel.objects.get(organization=None, kind="webhook")
        rules = {r.name: r for r in AlertRule.objects.all()}
        deliveries = set(NotificationDelivery.objects.filter(channel=channel).values_list("event", flat=True))
        p95 = {(r.organization_slug, r.service): r.p95 for r in selectors.latest_latency_p95(now=NOW)}
    # acme-weddings has a wedding on its local today: wedding-day protocol, p0 incident.
    assert spike.incident is not None and spike.incident.priority == "p0"
    assert spike.incident.title.startswith("WEDDING DAY: ")
    assert spike.threshold == 400.0
    assert unassigned
    assert channel.config == {"url": HOOK}
    assert {"alert.firing", "incident.opened"} <= deliveries
    platform = rules["Platform p95 latency"]
    assert platform.organization_id is None and platform.threshold == 800 and platform.wedding_day_threshold == 400
    assert any(r.organization_id is not None for r in rules.values())
    # The metrics show the spike: acme's payments p95 is far above every quiet service.
    assert p95[("acme-weddings", "payments")] > 800
    assert p95[("rosewood-florals", "booking-api")] < 800


def test_rule_evaluation_after_the_seed_keeps_the_seeded_alert_and_its_one_incident(seeded):
    """The first evaluations after ``make run`` touch the seeded alert: no second alert, no second p0."""
    from alerts.evaluation import rules_evaluate

    with service_context():
        before = AlertHistory.objects.get(organization__slug="acme-weddings", rule__name="Platform p95 latency")
        for minute in (1, 2):
            rules_evaluate(now=NOW + dt.timedelta(minutes=minute, seconds=5))
        acme = AlertHistory.objects.filter(organization__slug="acme-weddings", rule__name="Platform p95 latency")
        incidents = Incident.objects.filter(organization__slug="acme-weddings")
        assert [(a.pk, a.status) for a in acme] == [(before.pk, "firing")]
        assert incidents.count() == 1 and incidents.get().pk == before.incident_id
        # No more metrics arrive in the demo: the alert resolves when its window empties, and the
        # spike's incident, set to resolve manually, stays on the dashboard.
        rules_evaluate(now=NOW + dt.timedelta(minutes=6, seconds=5))
        assert AlertHistory.objects.get(pk=before.pk).status == "resolved"
        assert Incident.objects.get(pk=before.incident_id).status == "open"


def test_seed_demo_without_webhook_url_creates_no_channel(db, monkeypatch):
    monkeypatch.delenv("DEMO_WEBHOOK_URL", raising=False)
    call_command("seed_demo", "--quiet", "--now", NOW.isoformat(), "--minutes", "2", "--samples", "1")
    with service_context():
        assert not NotificationChannel.objects.exists()
        assert Organization.objects.count() == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "2026-06-10T12:00:00"], "UTC offset"),
        (["--now", "next tuesday"], "not an ISO 8601"),
        (["--minutes", "0"], "--minutes 0"),
        (["--samples", "1000"], "--samples 1000"),
        (["--business-weeks", "13"], "--business-weeks 13"),
    ],
)
def test_seed_demo_refuses_bad_options_with_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", "--quiet", *args)
    with service_context():
        assert not Organization.objects.exists()


def test_seed_demo_creates_heartbeat_checks_some_up_one_late_one_down_with_its_alert(seeded):
    output = seed(quiet=False)
    assert "heartbeats: 5 checks (0 new): 3 up, 1 late, 1 down" in output
    assert "ping a demo check: curl -fsS -m 10 --retry 5 http" in output and "/ping/" in output
    with service_context():
        states = dict(HeartbeatCheck.objects.values_list("name", "status"))
        down = HeartbeatCheck.objects.get(name="Payments reconciliation")
        alert = AlertHistory.objects.get(fingerprint=f"heartbeat:{down.pk}")
        backup = HeartbeatCheck.objects.get(name="Nightly backup")
    assert states == {
        "Nightly backup": "up",
        "Invoice run": "up",
        "Gallery export": "late",
        "Payments reconciliation": "down",
        "Platform database backup": "up",
    }
    assert alert.status == "firing" and alert.severity == "critical" and alert.organization_id == down.organization_id
    assert backup.last_duration_ms == 5 * 60 * 1000 and backup.timezone == "Europe/London"


def test_seed_demo_fills_business_events_funnels_segments_and_the_outage_shows_as_impact(seeded):
    from business.impact import IMPACT_WINDOW, organization_impact
    from demo.business import OUTAGE_SLUG

    assert seeded["ConversionFunnel"] == 20 * 2 and seeded["UserSegment"] == 20 * 3
    assert seeded["BusinessEvent"] > 20 * 7 * 50  # a week of hourly events for every organization
    with service_context():
        acme = Organization.objects.get(slug=OUTAGE_SLUG)
        steps = ConversionFunnelStep.objects.filter(organization=acme, funnel__name="Enquiry to payment", step=2)
        assert steps.exists() and all(0 < s.conversion < 1 for s in steps if s.conversion is not None)
        impact = organization_impact(organization_id=acme.id, start=NOW - IMPACT_WINDOW, end=NOW)
        assert impact.lines[0].text.startswith("payments failing: ") and "above normal" in impact.lines[0].text
        business_alerts = AlertHistory.objects.filter(source="business", organization=acme)
        assert business_alerts.filter(labels__alertname="BusinessEventRise").count() == 1
