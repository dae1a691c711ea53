"""Escalation that tells the truth: its clock is the portal's, lateness does not add up, the timeline says
what was actually sent, and wedding-day and flapping incidents are opened like the others.

Seen before: an incident opened from an alert that started 10 days earlier escalated 51 s after opening,
logged "unacknowledged for 15277 min"; the timeline said "Paged: Priya (priya@ops.example)" although
nothing reached Priya.
"""

import datetime as dt
import json

import pytest

from alerts import conf as alerts_conf
from alerts.integrations.alertmanager import alertmanager_receive, parse_payload
from alerts.models import AlertHistory
from alerts.services import alert_fire, alert_resolve, integration_create
from alerts.silences import suppressions_apply
from incidents.escalation import escalations_run
from incidents.models import EscalationContact, EscalationPolicy, EscalationStep, Incident, IncidentUpdate
from incidents.services import incident_create, incident_open_from_error_pattern
from notifications.delivery import delivery_send
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import SAMPLES_DIR, SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Wedding

MIN = dt.timedelta(minutes=1)


def steps(incident):
    with service_context():
        return list(IncidentUpdate.objects.filter(incident=incident, kind="escalation").order_by("created_at"))


@pytest.fixture
def policy(world, receiver):
    with service_context():
        p = EscalationPolicy.objects.create(organization=None, name="platform")
        for position, wait in enumerate((5, 10), start=1):
            EscalationStep.objects.create(policy=p, position=position, wait_minutes=wait, level="team_lead")
        EscalationContact.objects.create(name="Priya", level="team_lead", email="priya@ops.example")
        world.channel = NotificationChannel.objects.create(
            kind="webhook", name="ops hook", config={"url": receiver.url + "/ops"}
        )
    world.receiver = receiver
    return world


def test_an_alert_that_started_ten_days_ago_escalates_five_minutes_after_the_portal_opened_it(policy):
    payload = json.loads((SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json").read_text())
    payload["alerts"][0]["startsAt"] = (WEDNESDAY - dt.timedelta(days=10)).isoformat()
    with service_context():
        integration, _ = integration_create(kind="alertmanager", name="am")
        alertmanager_receive(
            integration=integration, payload=parse_payload(json.dumps(payload).encode()), now=WEDNESDAY
        )
        incident = Incident.objects.get()
    assert escalations_run(now=WEDNESDAY + 51 * dt.timedelta(seconds=1)) == {"incidents": 0, "alerts": 0}
    assert escalations_run(now=WEDNESDAY + 5 * MIN - dt.timedelta(seconds=1))["incidents"] == 0
    counts = escalations_run(now=WEDNESDAY + 5 * MIN)
    assert counts["incidents"] == 1
    with service_context():
        lines = list(IncidentUpdate.objects.filter(incident=incident).values_list("message", flat=True))
    assert not any("15277" in line or "14400" in line for line in lines)
    with service_context():
        title = AlertHistory.objects.get().title
    assert [line for line in lines if "unacknowledged for" in line] == [
        f'Alert "{title}" unacknowledged for 5 min since the portal received it'
    ]


def test_each_steps_wait_counts_from_when_the_previous_step_was_due_not_from_a_late_beat(policy):
    with service_context():
        incident = incident_create(
            organization=policy.org_a, title="checkout down", by=None, now=WEDNESDAY, priority="p1", severity="critical"
        )
    # The beat was down: step 1 (due at +5) is taken 4 minutes late.
    assert escalations_run(now=WEDNESDAY + 9 * MIN)["incidents"] == 1
    (first,) = steps(incident)
    assert "4 min after it was due" in first.message
    # Step 2 is due 10 minutes after step 1 was *due* (+15), not after it was taken (+19).
    assert escalations_run(now=WEDNESDAY + 15 * MIN - dt.timedelta(seconds=1))["incidents"] == 0
    assert escalations_run(now=WEDNESDAY + 15 * MIN)["incidents"] == 1


def test_the_timeline_names_what_was_sent_and_shows_each_outcome(policy, client):
    w = policy
    with service_context():
        incident = incident_create(
            organization=w.org_a, title="checkout down", by=None, now=WEDNESDAY, priority="p1", severity="critical"
        )
    escalations_run(now=WEDNESDAY + 5 * MIN)
    (step,) = steps(incident)
    assert "Paged" not in step.message
    assert "Notified 1 channel(s): ops hook." in step.message
    assert (
        "Contacts for this level, named in the notification (not paged directly): Priya (priya@ops.example)"
        in step.message
    )
    with service_context():
        delivery = NotificationDelivery.objects.get(incident_id=incident.pk, event="incident.escalated")
    assert step.deliveries == [str(delivery.pk)]
    w.receiver.statuses = [503]
    delivery_send(delivery_id=delivery.pk, now=WEDNESDAY + 5 * MIN)
    client.force_login(w.staff)
    page = client.get(f"/ops/incidents/{incident.pk}/").content.decode()
    assert "retrying" in page and "attempt 1 failed: received HTTP 503" in page
    delivery_send(delivery_id=delivery.pk, now=WEDNESDAY + 6 * MIN)
    page = client.get(f"/ops/incidents/{incident.pk}/").content.decode()
    assert "ops hook: " in page and "sent" in page


def test_a_step_with_no_routed_channel_says_nobody_was_notified(world):
    with service_context():
        incident = incident_create(organization=world.org_a, title="x", by=None, now=WEDNESDAY)
    escalations_run(now=WEDNESDAY + 5 * MIN)
    (step,) = steps(incident)
    assert "No channel is routed for it: nobody was notified." in step.message


def test_a_wedding_day_p0_from_a_critical_error_pattern_is_linked_to_that_days_wedding(world):
    with service_context():
        wedding = Wedding.objects.create(
            organization=world.org_a,
            wedding_date=SATURDAY.date(),
            couple_name="Ana & Ben",
            ceremony_time=dt.time(14, 0),
        )
        incident, created = incident_open_from_error_pattern(
            organization_id=world.org_a.id,
            service="payments",
            signature="KeyError#card",
            message="KeyError 'card'",
            occurrences=12,
            now=SATURDAY,
        )
    assert created and incident.priority == "p0" and incident.wedding_id == wedding.id


def test_a_flapping_critical_alert_released_from_its_hold_opens_its_incident(world):
    labels = {"alertname": "CheckoutFlaky", "service": "payments"}

    def cycle(at, resolve=True):
        with service_context():
            alert, _ = alert_fire(
                organization_id=world.org_a.id,
                fingerprint="flaky",
                source="alertmanager",
                title="Checkout flaky",
                labels=labels,
                annotations={},
                severity="critical",
                priority="high",
                starts_at=at,
                now=at,
            )
            if resolve:
                alert_resolve(alert=alert, ends_at=at + MIN, now=at + MIN)
            return AlertHistory.objects.get(pk=alert.pk)

    for i in range(alerts_conf.FLAP_MAX_OPENINGS - 1):
        cycle(WEDNESDAY + i * 2 * MIN)
    held = cycle(WEDNESDAY + 10 * MIN, resolve=False)
    assert held.flapping and held.incident_id is None
    with service_context():
        suppressions_apply(now=WEDNESDAY + 10 * MIN + dt.timedelta(seconds=alerts_conf.FLAP_WINDOW_S))
        released = AlertHistory.objects.get(pk=held.pk)
        incident = Incident.objects.get(pk=released.incident_id)
    assert not released.flapping and incident.status == "open"
