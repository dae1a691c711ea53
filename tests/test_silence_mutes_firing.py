"""A silence mutes what is already firing: notifications, repeats and escalation stop at once, and resume.

Seen before: a vendor silenced ``alertname="HighCheckoutLatency", service=~"pay.*"`` for 3 h; 43 s later
the matching incident escalated to step 2 and notified two channels, and the alert stayed
``escalated``. Alertmanager's meaning: a silence applies at once to active alerts.
"""

import datetime as dt

import pytest

from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory
from alerts.notify import alerts_repeat
from alerts.services import alert_fire
from alerts.silences import silence_create, silence_expire, suppression_rule_create
from incidents.escalation import escalations_run
from incidents.models import EscalationPolicy, EscalationStep, Incident, IncidentUpdate
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

MIN = dt.timedelta(minutes=1)
CHECKOUT = {"alertname": "HighCheckoutLatency", "service": "payments", "severity": "critical"}
GALLERY = {"alertname": "GallerySlow", "service": "gallery", "severity": "critical"}
MATCHERS = [
    {"name": "alertname", "op": "=", "value": "HighCheckoutLatency"},
    {"name": "service", "op": "=~", "value": "pay.*"},
]


@pytest.fixture
def paging(world):
    """Rosewood: a two-step policy (5 min, then 10 min), two channels; a critical checkout alert and its incident."""
    with service_context():
        policy = EscalationPolicy.objects.create(organization=world.org_a, name="checkout")
        for position, (wait, level) in enumerate([(5, "team_lead"), (10, "manager")], start=1):
            EscalationStep.objects.create(
                organization=world.org_a, policy=policy, position=position, wait_minutes=wait, level=level
            )
        for name in ("pager", "ops"):
            NotificationChannel.objects.create(
                organization=world.org_a, kind="webhook", name=name, config={"url": "http://127.0.0.1:9/"}
            )
    world.alert = fire(world.org_a, CHECKOUT, now=WEDNESDAY)
    with service_context():
        world.incident = Incident.objects.get(pk=world.alert.incident_id)
    return world


def fire(org, labels, *, now, starts_at=None):
    with service_context():
        return alert_fire(
            organization_id=org.id,
            fingerprint=labels_fingerprint(labels),
            source="alertmanager",
            title=labels["alertname"],
            labels=labels,
            annotations={},
            severity="critical",
            priority="high",
            starts_at=starts_at or now,
            now=now,
            group_key=labels["alertname"],
        )[0]


def deliveries(**filters):
    with service_context():
        return list(
            NotificationDelivery.objects.filter(**filters).exclude(status="cancelled").values_list("event", "step")
        )


def reload(obj):
    with service_context():
        return type(obj).objects.get(pk=obj.pk)


def timeline(incident, kind):
    with service_context():
        return list(
            IncidentUpdate.objects.filter(incident=incident, kind=kind)
            .order_by("created_at")
            .values_list("message", flat=True)
        )


def test_a_silence_stops_escalation_of_what_already_fires_and_expiry_resumes_it_from_its_step(paging):
    w = paging
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"] == 1  # step 1 at +5 min
    with vendor_context(w.org_a.id, w.alice.pk):
        silence = silence_create(
            matchers=MATCHERS,
            starts_at=WEDNESDAY + 5 * MIN,
            ends_at=WEDNESDAY + 185 * MIN,
            comment="deploying the fix",
            now=WEDNESDAY + 5 * MIN + dt.timedelta(seconds=20),
            organization_id=w.org_a.id,
            created_by=w.alice,
        )
    alert, incident = reload(w.alert), reload(w.incident)
    assert (alert.status, alert.suppressed_by_id) == ("suppressed", silence.pk)
    assert incident.muted_at is not None
    (muted,) = timeline(incident, "mute")
    until = f"{silence.ends_at:%Y-%m-%d %H:%M} UTC"
    assert muted == f"Muted by silence {silence.pk} (alice, 'deploying the fix', until {until}); escalation stops"
    # 43 s later, and for the next three hours: no step 2, no page, no repeat.
    for minutes in (6, 15, 16, 60, 184):
        assert escalations_run(now=WEDNESDAY + minutes * MIN) == {"incidents": 0, "alerts": 0}
    assert alerts_repeat(now=WEDNESDAY + 5 * 60 * MIN) == 0
    with service_context():
        pages = sorted(
            NotificationDelivery.objects.filter(incident_id=incident.pk, event="incident.escalated").values_list(
                "step", "status"
            )
        )
    assert pages == [(1, "cancelled"), (1, "cancelled")]  # step 1's pages had not gone out yet: moot now
    assert reload(w.incident).escalation_step == 1

    with vendor_context(w.org_a.id, w.alice.pk):
        silence_expire(silence=silence, now=WEDNESDAY + 90 * MIN)  # expired early, the alert still fires
    assert reload(w.alert).status == "firing"
    incident = reload(w.incident)
    assert incident.muted_at is None and incident.escalation_clock_at == WEDNESDAY + 90 * MIN
    assert timeline(incident, "mute")[-1].startswith("Unmuted: an alert fires again; escalation resumes at step 2")
    # Step 2 waits its own 10 minutes from the expiry, not from when step 1 was taken.
    assert escalations_run(now=WEDNESDAY + 99 * MIN)["incidents"] == 0
    assert escalations_run(now=WEDNESDAY + 100 * MIN)["incidents"] == 1
    assert deliveries(incident_id=incident.pk, event="incident.escalated") == [("incident.escalated", 2)] * 2


def test_pending_notifications_of_a_muted_alert_are_cancelled_with_the_reason(paging):
    w = paging
    with service_context():
        before = NotificationDelivery.objects.filter(alert_id=w.alert.pk, status="pending").count()
        assert before == 2  # alert.firing to both channels, not sent yet
        silence = suppression_rule_create(
            kind="silence",
            matchers=MATCHERS,
            now=WEDNESDAY + MIN,
            starts_at=WEDNESDAY,
            ends_at=WEDNESDAY + 60 * MIN,
            comment="known",
        )
        cancelled = list(NotificationDelivery.objects.filter(alert_id=w.alert.pk).values_list("status", "last_error"))
    assert [s for s, _ in cancelled] == ["cancelled", "cancelled"]
    assert all(str(silence.pk) in reason or "muted" in reason for _, reason in cancelled)
    # When the silence expires and the alert still fires, the firing notification nobody got goes out.
    with service_context():
        silence_expire(silence=silence, now=WEDNESDAY + 30 * MIN)
        statuses = set(
            NotificationDelivery.objects.filter(alert_id=w.alert.pk, event="alert.firing").values_list(
                "status", flat=True
            )
        )
    assert statuses == {"pending"}


def test_an_incident_with_one_unmuted_firing_alert_goes_on_escalating(paging):
    w = paging
    other = fire(w.org_a, GALLERY, now=WEDNESDAY + MIN)
    with service_context():
        AlertHistory.objects.filter(pk=other.pk).update(incident_id=w.incident.pk)  # one problem, two alerts
        suppression_rule_create(
            kind="silence",
            matchers=MATCHERS,
            now=WEDNESDAY + 2 * MIN,
            starts_at=WEDNESDAY,
            ends_at=WEDNESDAY + 60 * MIN,
            comment="checkout only",
        )
    assert reload(w.alert).status == "suppressed" and reload(other).status == "firing"
    assert reload(w.incident).muted_at is None
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"] == 1


def test_an_inhibition_rule_mutes_an_escalated_alert_too(paging):
    w = paging
    with service_context():
        AlertHistory.objects.filter(pk=w.alert.pk).update(status="escalated")
    fire(w.org_a, {"alertname": "DatacenterDown", "service": "payments", "severity": "critical"}, now=WEDNESDAY)
    with service_context():
        suppression_rule_create(
            kind="inhibition",
            now=WEDNESDAY + MIN,
            source_matchers=[{"name": "alertname", "op": "=", "value": "DatacenterDown"}],
            matchers=[{"name": "alertname", "op": "=", "value": "HighCheckoutLatency"}],
            equal_labels=["service"],
        )
    alert = reload(w.alert)
    assert alert.status == "suppressed" and alert.suppression_reason.startswith("inhibited by")


def test_a_vendor_silence_never_mutes_or_releases_another_organizations_alerts(paging):
    w = paging
    bloom = fire(w.org_b, CHECKOUT, now=WEDNESDAY)
    with vendor_context(w.org_a.id, w.alice.pk):
        silence_create(
            matchers=MATCHERS,
            starts_at=WEDNESDAY,
            ends_at=WEDNESDAY + 60 * MIN,
            comment="ours",
            now=WEDNESDAY + MIN,
            organization_id=w.org_a.id,
            created_by=w.alice,
        )
    assert reload(bloom).status == "firing" and reload(w.alert).status == "suppressed"
