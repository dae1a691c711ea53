"""Escalation: time-driven steps with a controlled clock (``now=``), policies, contacts, exactly-once claims.

Every step is taken by ``escalations_run(now=…)``; the clock is the ``now``
passed in (or frozen with time_machine for the beat task), never a sleep.
"""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from alerts.models import AlertHistory
from incidents.escalation import (
    contact_is_on_duty,
    escalation_plan_for,
    escalations_run,
    incident_escalate,
    incident_escalate_if_due,
)
from incidents.models import EscalationContact, EscalationPolicy, EscalationStep, Incident, IncidentUpdate
from incidents.services import incident_acknowledge, incident_create, incident_open_from_alert, incident_reopen
from incidents.tasks import escalate_due
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

MIN = dt.timedelta(minutes=1)


def _policy(org, *steps, wedding_day=False, repeat=1, name=None):
    policy = EscalationPolicy.objects.create(
        organization=org,
        name=name or f"{'wd ' if wedding_day else ''}policy",
        wedding_day=wedding_day,
        repeat_count=repeat,
    )
    for i, (wait, level) in enumerate(steps):
        EscalationStep.objects.create(organization=org, policy=policy, position=i + 1, wait_minutes=wait, level=level)
    return policy


@pytest.fixture
def setup(world):
    """org A: a two-step policy (5 min team lead, 10 min manager), contacts, a webhook channel; one open p1."""
    with service_context():
        _policy(world.org_a, (5, "team_lead"), (10, "manager"))
        world.tia = EscalationContact.objects.create(
            organization=world.org_a, name="Tia Lead", level="team_lead", email="tia@example.com"
        )
        world.max = EscalationContact.objects.create(
            organization=world.org_a, name="Max Manager", level="manager", phone="+447700900123"
        )
        world.eve = EscalationContact.objects.create(
            organization=world.org_a,
            name="Eve Emergency",
            level="director",
            slack="@eve",
            wedding_day_emergency=True,
            timezone="Europe/London",
            active_from=dt.time(9),
            active_until=dt.time(17),
        )
        EscalationContact.objects.create(organization=world.org_b, name="Bob's lead", level="team_lead")
        world.channel = NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="a-hook", config={"url": "http://127.0.0.1:9/hook"}
        )
        world.incident = incident_create(
            organization=world.org_a,
            title="payments failing",
            by=None,
            now=WEDNESDAY,
            priority="p1",
            severity="critical",
        )
    return world


def _steps(incident):
    with service_context():
        return list(
            IncidentUpdate.objects.filter(incident=incident, kind="escalation")
            .order_by("created_at")
            .values_list("message", flat=True)
        )


def _escalation_deliveries(incident):
    with service_context():
        return sorted(
            f"{event}.{step}"
            for event, step in NotificationDelivery.objects.filter(
                incident_id=incident.pk, event="incident.escalated"
            ).values_list("event", "step")
        )


def test_unacknowledged_incident_escalates_after_each_steps_wait_and_never_twice(setup):
    w = setup
    assert escalations_run(now=WEDNESDAY + 5 * MIN - dt.timedelta(seconds=1)) == {"incidents": 0, "alerts": 0}
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"] == 1
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"] == 0  # a second beat at the same moment
    with service_context():
        stored = Incident.objects.get(pk=w.incident.pk)
    assert (stored.escalation_level, stored.escalation_step) == ("team_lead", 1)
    assert stored.last_escalated_at == WEDNESDAY + 5 * MIN
    (first,) = _steps(w.incident)
    assert "Escalated to team_lead (step 1 of 2" in first and "Tia Lead (tia@example.com)" in first
    assert "Bob's lead" not in first and "Max" not in first

    # The second step waits 10 minutes after the first.
    assert escalations_run(now=WEDNESDAY + 15 * MIN - dt.timedelta(seconds=1))["incidents"] == 0
    assert escalations_run(now=WEDNESDAY + 15 * MIN)["incidents"] == 1
    assert "Max Manager (+447700900123)" in _steps(w.incident)[1]
    # The plan is used up: nothing more, however long it stays open.
    assert escalations_run(now=WEDNESDAY + 600 * MIN)["incidents"] == 0
    assert _escalation_deliveries(w.incident) == ["incident.escalated.1", "incident.escalated.2"]
    with service_context():
        delivery = NotificationDelivery.objects.get(incident_id=w.incident.pk, event="incident.escalated", step=2)
    assert delivery.channel_id == w.channel.pk
    assert delivery.payload["event"] == "incident.escalated"
    assert delivery.payload["escalation"]["level"] == "manager"
    assert delivery.payload["escalation"]["contacts"][0]["phone"] == "+447700900123"
    assert delivery.payload["incident_url"].endswith(f"/ops/incidents/{w.incident.pk}/")
    with service_context():
        notified = list(
            IncidentUpdate.objects.filter(incident=w.incident, kind="notification").values_list("message", flat=True)
        )
        steps = list(IncidentUpdate.objects.filter(incident=w.incident, kind="escalation").order_by("created_at"))
    assert notified == ["Notified 1 channel(s) of incident.opened: a-hook"]
    # Each step's own timeline row names the channels it notified and keeps their delivery ids; it never
    # says "Paged" (nothing was sent to the contacts themselves).
    assert all("Notified 1 channel(s): a-hook." in u.message and "Paged" not in u.message for u in steps)
    with service_context():
        by_step = {
            d.step: str(d.pk)
            for d in NotificationDelivery.objects.filter(incident_id=w.incident.pk, event="incident.escalated")
        }
    assert [u.deliveries for u in steps] == [[by_step[1]], [by_step[2]]]


def test_acknowledging_stops_escalation(setup):
    w = setup
    with staff_context():
        incident_acknowledge(incident=w.incident, by=w.staff, now=WEDNESDAY + 3 * MIN)
    assert escalations_run(now=WEDNESDAY + 60 * MIN)["incidents"] == 0
    assert _steps(w.incident) == []


def test_reopening_restarts_escalation_from_the_reopening(setup):
    from incidents.services import incident_resolve

    w = setup
    escalations_run(now=WEDNESDAY + 5 * MIN)
    with staff_context():
        incident_resolve(incident=w.incident, by=w.staff, now=WEDNESDAY + 6 * MIN)
        incident_reopen(incident=w.incident, by=w.staff, now=WEDNESDAY + 20 * MIN)
    assert escalations_run(now=WEDNESDAY + 24 * MIN)["incidents"] == 0
    assert escalations_run(now=WEDNESDAY + 25 * MIN)["incidents"] == 1
    assert len(_steps(w.incident)) == 2


def test_steps_repeat_as_many_times_as_the_policy_says(world):
    with service_context():
        _policy(world.org_b, (1, "team_lead"), (1, "manager"), repeat=2)
        incident = incident_create(organization=world.org_b, title="x", by=None, now=WEDNESDAY)
    taken = [escalations_run(now=WEDNESDAY + n * MIN)["incidents"] for n in range(1, 8)]
    assert taken == [1, 1, 1, 1, 0, 0, 0]
    with service_context():
        assert Incident.objects.get(pk=incident.pk).escalation_step == 4
    assert ["step 4 of 4" in m for m in _steps(incident)] == [False, False, False, True]


def test_wedding_day_uses_the_shorter_variant_and_pages_emergency_contacts_whatever_the_hour(setup):
    w = setup
    with service_context():
        _policy(w.org_a, (1, "team_lead"), wedding_day=True, name="wedding day")
        Wedding.objects.create(organization=w.org_a, wedding_date=dt.date(2026, 6, 13), couple_name="Ana & Ben")
    night = dt.datetime(2026, 6, 13, 21, 0, tzinfo=dt.UTC)  # Saturday 22:00 in London: Eve is off duty
    with service_context():
        incident = incident_create(organization=w.org_a, title="gallery down", by=None, now=night, priority="p0")
    assert escalations_run(now=night + MIN - dt.timedelta(seconds=1))["incidents"] == 1  # the Wednesday incident
    assert escalations_run(now=night + MIN)["incidents"] == 1  # one minute on a wedding day
    (message,) = _steps(incident)
    assert "policy 'wedding day', wedding day" in message
    assert "Tia Lead" in message and "Eve Emergency" in message and "[wedding-day emergency]" in message


def test_emergency_contacts_are_paged_on_a_wedding_day_even_under_the_ordinary_policy(setup):
    w = setup
    with service_context():
        incident = incident_create(
            organization=w.org_a, title="x", by=None, now=dt.datetime(2026, 6, 13, 21, 0, tzinfo=dt.UTC)
        )  # a Saturday in London, no wedding-day policy
    escalations_run(now=dt.datetime(2026, 6, 13, 21, 5, tzinfo=dt.UTC))
    (message,) = _steps(incident)
    assert "policy 'policy', wedding day" in message and "Eve Emergency" in message


def test_off_duty_contacts_are_not_paged_on_ordinary_days(world):
    eve = EscalationContact(
        name="Eve", level="team_lead", timezone="Europe/London", active_from=dt.time(9), active_until=dt.time(17)
    )
    assert contact_is_on_duty(eve, dt.datetime(2026, 6, 10, 8, 30, tzinfo=dt.UTC))  # 09:30 BST
    assert not contact_is_on_duty(eve, dt.datetime(2026, 6, 10, 16, 30, tzinfo=dt.UTC))  # 17:30 BST
    night = EscalationContact(
        name="Nia", level="team_lead", timezone="Australia/Sydney", active_from=dt.time(22), active_until=dt.time(6)
    )
    assert contact_is_on_duty(night, dt.datetime(2026, 6, 10, 13, 0, tzinfo=dt.UTC))  # 23:00 AEST
    assert not contact_is_on_duty(night, dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC))  # 12:00 AEST
    with service_context():
        EscalationContact.objects.create(
            organization=world.org_a,
            name="Day Dan",
            level="team_lead",
            timezone="Europe/London",
            active_from=dt.time(9),
            active_until=dt.time(17),
        )
        incident = incident_create(organization=world.org_a, title="x", by=None, now=WEDNESDAY + 7 * 60 * MIN)
    escalations_run(now=WEDNESDAY + (7 * 60 + 5) * MIN)  # 20:05 BST
    assert "No contact is on duty at this level." in _steps(incident)[0]


def test_platform_default_applies_without_an_organization_policy_and_built_in_without_any(world):
    with service_context():
        assert escalation_plan_for(organization_id=world.org_b.id, wedding_day=False).name == "built-in default"
        assert escalation_plan_for(organization_id=world.org_b.id, wedding_day=False).steps == ((5, "team_lead"),)
        assert escalation_plan_for(organization_id=world.org_b.id, wedding_day=True).steps == ((2, "team_lead"),)
        _policy(None, (3, "manager"), name="platform default")
        plan = escalation_plan_for(organization_id=world.org_b.id, wedding_day=True)
        assert (plan.name, plan.steps, plan.wedding_day) == ("platform default", ((3, "manager"),), True)
        _policy(world.org_b, (7, "director"), name="bloom")
        assert escalation_plan_for(organization_id=world.org_b.id, wedding_day=False).name == "bloom"


def test_incident_opened_from_an_alert_escalates_after_the_default_five_minutes(world):
    with service_context():
        alert = AlertHistory.objects.create(
            organization=world.org_b,
            source="alertmanager",
            fingerprint="f1",
            title="db down",
            severity="warning",
            starts_at=WEDNESDAY,
        )
        incident = incident_open_from_alert(alert=alert, now=WEDNESDAY)
    assert escalations_run(now=WEDNESDAY + 4 * MIN)["incidents"] == 0
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"] == 1
    with service_context():
        assert Incident.objects.get(pk=incident.pk).escalation_level == "team_lead"


def test_critical_firing_alert_is_escalated_once_after_five_minutes(world):
    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
        mk = dict(organization=world.org_b, source="alertmanager", starts_at=WEDNESDAY, escalation_clock_at=WEDNESDAY)
        critical = AlertHistory.objects.create(**mk, fingerprint="c", title="c", severity="critical")
        warning = AlertHistory.objects.create(**mk, fingerprint="w", title="w", severity="warning")
        acked = AlertHistory.objects.create(
            **mk, fingerprint="a", title="a", severity="emergency", status="acknowledged"
        )
    assert escalations_run(now=WEDNESDAY + 4 * MIN)["alerts"] == 0
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["alerts"] == 1
    assert escalations_run(now=WEDNESDAY + 50 * MIN)["alerts"] == 0
    with service_context():
        statuses = dict(AlertHistory.objects.values_list("pk", "status"))
        events = list(NotificationDelivery.objects.values_list("alert_id", "event"))
    assert statuses == {critical.pk: "escalated", warning.pk: "firing", acked.pk: "acknowledged"}
    assert events == [(critical.pk, "alert.escalated")]


def test_acknowledging_an_incident_acknowledges_its_alerts_so_they_do_not_escalate(world):
    with service_context():
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="f",
            title="down",
            severity="critical",
            starts_at=WEDNESDAY,
        )
        incident = incident_open_from_alert(alert=alert, now=WEDNESDAY)
    with staff_context():
        incident_acknowledge(incident=incident, by=world.staff, now=WEDNESDAY + MIN)
    assert escalations_run(now=WEDNESDAY + 30 * MIN) == {"incidents": 0, "alerts": 0}
    with service_context():
        assert AlertHistory.objects.get(pk=alert.pk).status == "acknowledged"


def test_staff_can_escalate_by_hand_even_when_acknowledged_and_beyond_the_plan(setup):
    w = setup
    with staff_context():
        incident_acknowledge(incident=w.incident, by=w.staff, now=WEDNESDAY + MIN)
        incident_escalate(incident=w.incident, by=w.staff, now=WEDNESDAY + 2 * MIN, reason="CEO asked")
        incident_escalate(incident=w.incident, by=w.staff, now=WEDNESDAY + 3 * MIN)
        third = incident_escalate(incident=w.incident, by=w.staff, now=WEDNESDAY + 4 * MIN)
    assert third.escalation_level == "director"  # manager + one level up
    messages = _steps(w.incident)
    assert "Escalated to team_lead by staff" in messages[0] and "CEO asked" in messages[0]
    assert "Escalated to manager" in messages[1]
    assert len(_escalation_deliveries(w.incident)) == 3


def test_resolved_incident_cannot_be_escalated(setup):
    from incidents.services import incident_resolve

    w = setup
    with staff_context():
        incident_resolve(incident=w.incident, by=w.staff, now=WEDNESDAY + MIN)
        with pytest.raises(ValidationError, match="resolved incident cannot be escalated"):
            incident_escalate(incident=w.incident, by=w.staff, now=WEDNESDAY + 2 * MIN)


def test_beat_task_escalates_at_the_current_time_and_is_scheduled(setup):
    assert settings.CELERY_BEAT_SCHEDULE["incidents-escalate-due"]["task"] == "incidents.tasks.escalate_due"
    with time_machine.travel(WEDNESDAY + 4 * MIN, tick=False):
        assert escalate_due() == {"incidents": 0, "alerts": 0}
    with time_machine.travel(WEDNESDAY + 5 * MIN, tick=False):
        assert escalate_due() == {"incidents": 1, "alerts": 0}


def test_vendors_see_only_their_own_policies_and_contacts_and_no_context_sees_none(setup):
    w = setup
    with service_context():
        _policy(None, (3, "manager"), name="platform default")
        EscalationContact.objects.create(name="Ops on call", level="team_lead")
    with vendor_context(w.org_b.id):
        assert list(EscalationContact.objects.values_list("name", flat=True)) == ["Bob's lead"]
        assert EscalationPolicy.objects.count() == 0 and EscalationStep.objects.count() == 0
        assert EscalationContact.objects.filter(pk=w.tia.pk).update(name="x") == 0
    with vendor_context(w.org_a.id):
        assert EscalationContact.objects.count() == 3
        assert EscalationPolicy.objects.count() == 1
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM escalation_contacts")
        assert cur.fetchone() == (0,)


def test_an_incident_not_yet_due_is_not_claimed(setup):
    with service_context():
        assert incident_escalate_if_due(incident=setup.incident, now=WEDNESDAY + MIN) is None
        assert Incident.objects.get(pk=setup.incident.pk).escalation_step == 0


# --- two workers -------------------------------------------------------------


def _wait_until_a_backend_waits_on_a_lock(timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cur.fetchone()[0]:
                return
    raise AssertionError("the second worker never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_two_workers_escalating_the_same_incident_take_each_step_once(setup):
    """Worker 1 claims step 1 and holds its transaction open; worker 2, meanwhile and afterwards, takes nothing."""
    w = setup
    now = WEDNESDAY + 5 * MIN
    claimed, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def worker(name, hold):
        try:
            with service_context():
                incident = Incident.objects.get(pk=w.incident.pk)
                results[name] = incident_escalate_if_due(incident=incident, now=now)
                if hold:
                    claimed.set()
                    release.wait(10)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            claimed.set()
            connection.close()

    first = threading.Thread(target=worker, args=("first", True))
    first.start()
    assert claimed.wait(10)
    try:
        # While worker 1's claim is uncommitted, worker 2 skips the locked row at once.
        second = threading.Thread(target=worker, args=("during", False))
        second.start()
        second.join(10)
        assert not second.is_alive()
    finally:
        release.set()
        first.join(10)
    # After it committed, the step is taken: a late worker finds nothing due.
    third = threading.Thread(target=worker, args=("after", False))
    third.start()
    third.join(10)
    assert errors == []
    assert results["first"] is not None and results["during"] is None and results["after"] is None
    assert len(_steps(w.incident)) == 1
    assert _escalation_deliveries(w.incident) == ["incident.escalated.1"]


@pytest.mark.django_db(transaction=True)
def test_manual_escalation_waits_for_a_beat_claim_and_then_refuses_the_taken_step(setup):
    w = setup
    claimed, release = threading.Event(), threading.Event()
    errors, refused = [], []

    def beat():
        try:
            with service_context():
                incident_escalate_if_due(incident=Incident.objects.get(pk=w.incident.pk), now=WEDNESDAY + 5 * MIN)
                claimed.set()
                release.wait(10)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            claimed.set()
            connection.close()

    def staff():
        try:
            with staff_context():
                incident_escalate(incident=Incident.objects.get(pk=w.incident.pk), by=None, now=WEDNESDAY + 5 * MIN)
        except ValidationError as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=beat)
    first.start()
    assert claimed.wait(10)
    second = threading.Thread(target=staff)
    second.start()
    try:
        _wait_until_a_backend_waits_on_a_lock()
    finally:
        release.set()
        first.join(10)
        second.join(10)
    assert errors == [] and len(refused) == 1 and "changed meanwhile" in str(refused[0])
    assert len(_steps(w.incident)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_beat_runs_at_once_escalate_each_due_incident_once(setup):
    w = setup
    with service_context():
        others = [incident_create(organization=w.org_b, title=f"b{i}", by=None, now=WEDNESDAY) for i in range(5)]
    start = threading.Barrier(2)
    totals, errors = [], []

    def beat():
        try:
            start.wait(10)
            totals.append(escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"])
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sum(totals) == 6
    for incident in [w.incident, *others]:
        assert len(_steps(incident)) == 1
