"""A resolution ends it, both ways: the last alert resolving resolves its incident; resolving the incident
resolves its alerts (and a redelivery of the same firing does not reopen them, a new ``startsAt`` does).

Seen before: an incident whose alerts had all resolved stayed open and kept escalating (steps 2 and 3
reached after its only alert resolved); closing an incident left its alert ``acknowledged``, still
listed and counted under "Firing alerts".
"""

import datetime as dt
import json

import pytest

from alerts.integrations.alertmanager import alertmanager_receive, parse_payload
from alerts.models import AlertHistory
from alerts.services import alert_fire, alert_resolve, integration_create
from incidents.escalation import escalations_run
from incidents.models import EscalationPolicy, EscalationStep, Incident, IncidentUpdate, PostIncidentAnalysis
from incidents.services import incident_close, incident_resolve
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import SAMPLES_DIR, WEDNESDAY
from wedsync_ops.pages.selectors import open_alerts
from wedsync_ops.tenancy.context import service_context

MIN = dt.timedelta(minutes=1)
FIRING = json.loads((SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json").read_text())


@pytest.fixture
def pager(world):
    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
        policy = EscalationPolicy.objects.create(organization=None, name="platform")
        for position, wait in enumerate((5, 10, 20), start=1):
            EscalationStep.objects.create(policy=policy, position=position, wait_minutes=wait, level="team_lead")
        world.policy = policy
        world.integration, _ = integration_create(kind="alertmanager", name="am")
    return world


def fire(org, name="BookingApiDown", *, now=WEDNESDAY, severity="critical", group_key='{}:{alertname="x"}'):
    labels = {"alertname": name, "service": "booking-api"}
    with service_context():
        return alert_fire(
            organization_id=org.id,
            fingerprint=name,
            source="alertmanager",
            title=name,
            labels=labels,
            annotations={},
            severity=severity,
            priority="high",
            starts_at=now,
            now=now,
            group_key=group_key,
        )[0]


def reload(obj):
    with service_context():
        return type(obj).objects.get(pk=obj.pk)


def receive(payload: dict, integration, *, now):
    with service_context():
        return alertmanager_receive(
            integration=integration, payload=parse_payload(json.dumps(payload).encode()), now=now
        )


def test_the_last_alert_resolving_resolves_the_incident_stops_escalation_and_notifies(pager):
    first = fire(pager.org_a)
    second = fire(pager.org_a, "BookingApiSlow")  # same group: joins the incident
    with service_context():
        incident = Incident.objects.get(pk=first.incident_id)
        assert AlertHistory.objects.get(pk=second.pk).incident_id == incident.pk
        alert_resolve(alert=first, ends_at=WEDNESDAY + MIN, now=WEDNESDAY + MIN)
    assert reload(incident).status == "open"  # one alert still fires
    with service_context():
        alert_resolve(alert=reload(second), ends_at=WEDNESDAY + 2 * MIN, now=WEDNESDAY + 2 * MIN)
    incident = reload(incident)
    assert (incident.status, incident.resolved_at) == ("resolved", WEDNESDAY + 2 * MIN)
    with service_context():
        rows = list(
            IncidentUpdate.objects.filter(incident=incident, kind="status_change").values_list("message", flat=True)
        )
        resolved_sent = NotificationDelivery.objects.filter(incident_id=incident.pk, event="incident.resolved")
        assert resolved_sent.count() == 1
    assert rows[-1] == "Status changed from open to resolved by the system: all alerts resolved"
    for minutes in (5, 15, 35, 60):
        assert escalations_run(now=WEDNESDAY + minutes * MIN)["incidents"] == 0


def test_a_p0_resolved_by_its_alerts_still_needs_its_analysis_to_close(pager):
    with service_context():
        alert = fire(pager.org_a, now=dt.datetime(2026, 6, 13, 12, tzinfo=dt.UTC))  # a Saturday: p0
        incident = Incident.objects.get(pk=alert.incident_id)
        alert_resolve(alert=alert, ends_at=None, now=dt.datetime(2026, 6, 13, 12, 30, tzinfo=dt.UTC))
        incident.refresh_from_db()
        assert (incident.priority, incident.status) == ("p0", "resolved")
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="post-incident analysis"):
            incident_close(incident=incident, by=pager.staff, now=dt.datetime(2026, 6, 13, 13, tzinfo=dt.UTC))


@pytest.mark.parametrize("where", ["incident", "policy"])
def test_resolve_manually_keeps_the_incident_open_with_a_timeline_row(pager, where):
    alert = fire(pager.org_a)
    with service_context():
        incident = Incident.objects.get(pk=alert.incident_id)
        if where == "incident":
            Incident.objects.filter(pk=incident.pk).update(resolve_manually=True)
        else:
            EscalationPolicy.objects.filter(pk=pager.policy.pk).update(resolve_manually=True)
        alert_resolve(alert=alert, ends_at=None, now=WEDNESDAY + MIN)
        last = IncidentUpdate.objects.filter(incident=incident).order_by("-created_at").first()
    assert reload(incident).status == "open"
    assert last.message == "All alerts resolved; the incident stays open (set to resolve manually)"


def test_resolving_or_closing_an_incident_by_hand_resolves_its_alerts_and_they_leave_firing_alerts(pager):
    alert = fire(pager.org_a)
    with service_context():
        incident = Incident.objects.get(pk=alert.incident_id)
        from incidents.services import incident_acknowledge

        incident_acknowledge(incident=incident, by=pager.staff, now=WEDNESDAY + MIN)
        assert AlertHistory.objects.get(pk=alert.pk).status == "acknowledged"
        incident_resolve(incident=incident, by=pager.staff, now=WEDNESDAY + 2 * MIN)
        PostIncidentAnalysis.objects.create(organization=pager.org_a, incident=incident, status="published")
        incident_close(incident=incident, by=pager.staff, now=WEDNESDAY + 3 * MIN)
        stored = AlertHistory.objects.get(pk=alert.pk)
        listed = [a.pk for a in open_alerts()]
    assert (stored.status, stored.resolved_in_portal, stored.ends_at) == ("resolved", True, WEDNESDAY + 2 * MIN)
    assert alert.pk not in listed


def test_a_redelivered_firing_of_an_alert_resolved_in_the_portal_does_not_reopen_it_a_new_starts_at_does(pager):
    now = dt.datetime(2026, 6, 10, 12, tzinfo=dt.UTC)
    receive(FIRING, pager.integration, now=now)
    with service_context():
        alert = AlertHistory.objects.get()
        incident = Incident.objects.get(pk=alert.incident_id)
        incident_resolve(incident=incident, by=pager.staff, now=now + 10 * MIN)
    # Alertmanager keeps sending the same firing (same startsAt), and once with an earlier merged startsAt.
    receive(FIRING, pager.integration, now=now + 15 * MIN)
    earlier = json.loads(json.dumps(FIRING))
    earlier["alerts"][0]["startsAt"] = "2020-01-01T00:00:00Z"
    receive(earlier, pager.integration, now=now + 16 * MIN)
    with service_context():
        assert list(AlertHistory.objects.values_list("status", flat=True)) == ["resolved"]
        assert Incident.objects.get(pk=incident.pk).status == "resolved"
    # The problem comes back: a new startsAt, after the resolution, is a new alert of the same group,
    # which reopens the incident (resolved 10 minutes ago, within the 30-minute reopen window).
    again = json.loads(json.dumps(FIRING))
    again["alerts"][0]["startsAt"] = (now + 20 * MIN).isoformat().replace("+00:00", "Z")
    receive(again, pager.integration, now=now + 20 * MIN)
    with service_context():
        statuses = sorted(AlertHistory.objects.values_list("status", flat=True))
        reopened = Incident.objects.get(pk=incident.pk)
        assert Incident.objects.count() == 1
    assert statuses == ["firing", "resolved"]
    assert reopened.status == "open"
