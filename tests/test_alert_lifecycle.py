"""Alert lifecycle: fire, touch, resolve, acknowledge; notifications, incidents, the one-open-alert invariant."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory
from alerts.services import AlertStateError, alert_acknowledge, alert_fire, alert_record_resolved, alert_resolve
from incidents.models import Incident
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

LABELS = {"alertname": "BookingAPIDown", "organization": "rosewood-florals", "service": "booking-api"}
FP = labels_fingerprint(LABELS)


def fire(org, *, now=WEDNESDAY, starts_at=None, severity="warning", priority="medium", value=None, fingerprint=FP):
    return alert_fire(
        organization_id=org.id if org is not None else None,
        fingerprint=fingerprint,
        source="alertmanager",
        title="Booking API down",
        labels=LABELS,
        annotations={"summary": "Booking API down"},
        severity=severity,
        priority=priority,
        starts_at=starts_at or now,
        now=now,
        value=value,
    )


def deliveries():
    with service_context():
        return sorted(NotificationDelivery.objects.values_list("event", "channel__name"))


@pytest.fixture
def channels(world):
    with service_context():
        NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="rosewood hook", config={"url": "http://127.0.0.1:9/hook"}
        )
        NotificationChannel.objects.create(
            organization=None, kind="webhook", name="ops hook", config={"url": "http://127.0.0.1:9/ops"}
        )
        NotificationChannel.objects.create(
            organization=world.org_b, kind="webhook", name="bloom hook", config={"url": "http://127.0.0.1:9/bloom"}
        )
    return world


# --- fire -------------------------------------------------------------------------


def test_firing_opens_an_alert_and_enqueues_firing_notifications_to_its_organization_and_the_platform(channels):
    with service_context():
        alert, created = fire(channels.org_a, value=3.0)
    assert created is True
    assert (alert.status, alert.organization_id, alert.fingerprint) == ("firing", channels.org_a.id, FP)
    assert alert.value == 3.0
    assert alert.last_received_at == WEDNESDAY and alert.starts_at == WEDNESDAY
    assert deliveries() == [("alert.firing", "ops hook"), ("alert.firing", "rosewood hook")]


def test_firing_an_open_identity_only_touches_it(channels):
    later = WEDNESDAY + dt.timedelta(minutes=5)
    with service_context():
        first, _ = fire(channels.org_a, value=3.0)
        again, created = fire(channels.org_a, now=later, starts_at=later, value=7.0, severity="critical")
        assert created is False and again.pk == first.pk
        again.refresh_from_db()
        assert AlertHistory.objects.count() == 1
    assert (again.value, again.last_received_at, again.starts_at, again.severity) == (7.0, later, WEDNESDAY, "warning")
    assert again.incident_id is None
    assert len(deliveries()) == 2  # no new notification


def test_acknowledged_alert_is_still_open_for_its_identity(world):
    with service_context():
        alert, _ = fire(world.org_a)
        alert_acknowledge(alert=alert, by=world.staff, now=WEDNESDAY)
        again, created = fire(world.org_a, now=WEDNESDAY + dt.timedelta(minutes=1))
    assert created is False and again.pk == alert.pk and again.status == "acknowledged"


def test_firing_redelivered_after_resolution_changes_nothing_but_a_new_start_opens_a_new_alert(channels):
    with service_context():
        alert, _ = fire(channels.org_a)
        alert_resolve(alert=alert, ends_at=WEDNESDAY + dt.timedelta(minutes=2), now=WEDNESDAY + dt.timedelta(minutes=3))
        same, created = fire(channels.org_a, now=WEDNESDAY + dt.timedelta(minutes=4), starts_at=WEDNESDAY)
        assert created is False and same.pk == alert.pk and same.status == "resolved"
        assert same.last_received_at == WEDNESDAY + dt.timedelta(minutes=3)
        new, created = fire(channels.org_a, now=WEDNESDAY + dt.timedelta(minutes=10))
        assert created is True and new.pk != alert.pk
        statuses = list(AlertHistory.objects.order_by("starts_at").values_list("status", flat=True))
        assert statuses == ["resolved", "firing"]


def test_identities_are_per_organization_and_unassigned_is_one_identity(world):
    with service_context():
        a, _ = fire(world.org_a)
        b, created_b = fire(world.org_b)
        u1, created_u1 = fire(None)
        u2, created_u2 = fire(None, now=WEDNESDAY + dt.timedelta(minutes=1))
    assert created_b and created_u1 and not created_u2 and u1.pk == u2.pk and len({a.pk, b.pk, u1.pk}) == 3


def test_naive_datetimes_are_refused(world):
    with service_context(), pytest.raises(ValidationError) as excinfo:
        fire(world.org_a, starts_at=WEDNESDAY, now=dt.datetime(2026, 6, 10, 12, 0))
    assert "now" in excinfo.value.message_dict
    with service_context(), pytest.raises(ValidationError) as excinfo:
        fire(world.org_a, starts_at=dt.datetime(2026, 6, 10, 12, 0), now=WEDNESDAY)
    assert "starts_at" in excinfo.value.message_dict
    with service_context():
        assert AlertHistory.objects.count() == 0


# --- resolve, record, acknowledge ---------------------------------------------------------


def sent(alert):
    """The firing notifications of ``alert`` went out (what the worker would have done)."""
    with service_context():
        NotificationDelivery.objects.filter(alert_id=alert.pk).update(status="delivered", delivered_at=WEDNESDAY)


def test_resolving_sets_times_enqueues_resolved_notifications_once(channels):
    with service_context():
        alert, _ = fire(channels.org_a)
        sent(alert)
        ends = WEDNESDAY + dt.timedelta(minutes=2)
        resolved, changed = alert_resolve(alert=alert, ends_at=ends, now=ends + dt.timedelta(seconds=5))
        assert changed is True
        alert.refresh_from_db()
        again, changed = alert_resolve(alert=alert, ends_at=None, now=ends + dt.timedelta(minutes=1))
        assert changed is False
        alert.refresh_from_db()
    assert (alert.status, alert.ends_at, alert.resolved_at) == ("resolved", ends, ends + dt.timedelta(seconds=5))
    assert deliveries() == [
        ("alert.firing", "ops hook"),
        ("alert.firing", "rosewood hook"),
        ("alert.resolved", "ops hook"),
        ("alert.resolved", "rosewood hook"),
    ]


def test_an_alert_resolving_before_its_firing_went_out_cancels_it_and_sends_nothing(channels):
    with service_context():
        alert, _ = fire(channels.org_a)
        later = WEDNESDAY + dt.timedelta(seconds=20)
        alert_resolve(alert=alert, ends_at=later, now=later)
        rows = sorted(NotificationDelivery.objects.values_list("event", "status", "last_error"))
    assert rows == [("alert.firing", "cancelled", "the alert resolved before this was sent")] * 2


def test_recording_a_resolution_never_seen_firing_keeps_one_row_without_notifications(channels):
    kwargs = dict(
        organization_id=channels.org_a.id,
        fingerprint=FP,
        source="alertmanager",
        title="Booking API down",
        labels=LABELS,
        annotations={},
        severity="critical",
        priority="high",
        starts_at=WEDNESDAY,
        ends_at=WEDNESDAY + dt.timedelta(minutes=1),
        now=WEDNESDAY + dt.timedelta(minutes=2),
    )
    with service_context():
        alert, created = alert_record_resolved(**kwargs)
        same, created_again = alert_record_resolved(**kwargs)
        assert AlertHistory.objects.count() == 1
    assert created and not created_again and same.pk == alert.pk
    assert (alert.status, alert.incident_id) == ("resolved", None)
    assert deliveries() == []


def test_acknowledging_records_who_and_when_once_and_refuses_resolved_alerts(world):
    with service_context():
        alert, _ = fire(world.org_a)
        _, changed = alert_acknowledge(alert=alert, by=world.alice, now=WEDNESDAY + dt.timedelta(minutes=1))
        assert changed is True
        _, changed = alert_acknowledge(alert=alert, by=world.staff, now=WEDNESDAY + dt.timedelta(minutes=2))
        assert changed is False
        alert.refresh_from_db()
        assert (alert.status, alert.acknowledged_by_id) == ("acknowledged", world.alice.id)
        assert alert.acknowledged_at == WEDNESDAY + dt.timedelta(minutes=1)
        alert_resolve(alert=alert, ends_at=None, now=WEDNESDAY + dt.timedelta(minutes=3))
        with pytest.raises(AlertStateError):
            alert_acknowledge(alert=alert, by=world.alice, now=WEDNESDAY + dt.timedelta(minutes=4))


# --- incidents ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "priority", "now", "wedding", "incident_priority"),
    [
        ("warning", "medium", WEDNESDAY, False, None),
        ("warning", "high", WEDNESDAY, False, None),
        ("critical", "low", WEDNESDAY, False, "p1"),
        ("emergency", "medium", WEDNESDAY, False, "p1"),
        ("warning", "medium", SATURDAY, False, None),
        ("warning", "high", SATURDAY, False, "p0"),
        ("info", "critical", SATURDAY, False, "p0"),
        ("warning", "high", WEDNESDAY, True, "p0"),
        ("critical", "low", SATURDAY, False, "p0"),
    ],
    ids=[
        "warning",
        "high-weekday",
        "critical",
        "emergency",
        "medium-saturday",
        "high-saturday",
        "critical-priority-saturday",
        "high-weekday-wedding",
        "critical-saturday",
    ],
)
def test_critical_alerts_and_high_priority_wedding_day_alerts_open_an_incident(
    world, severity, priority, now, wedding, incident_priority
):
    with service_context():
        if wedding:
            Wedding.objects.create(organization=world.org_a, wedding_date=now.date(), couple_name="A & B")
        alert, _ = fire(world.org_a, now=now, severity=severity, priority=priority)
        incident = Incident.objects.filter(source_alerts=alert).first()
    if incident_priority is None:
        assert incident is None and alert.incident_id is None
    else:
        assert incident is not None and alert.incident_id == incident.id
        assert incident.priority == incident_priority
        assert incident.title.startswith("WEDDING DAY: ") == (incident_priority == "p0")


def test_unassigned_high_priority_alert_on_a_saturday_opens_no_incident(world):
    with service_context():
        alert, _ = fire(None, now=SATURDAY, priority="high")
    assert alert.incident_id is None


# --- the invariant and isolation -------------------------------------------------------


@pytest.mark.parametrize("unassigned", [False, True])
def test_the_database_refuses_a_second_open_alert_for_one_identity(world, unassigned):
    org_id = None if unassigned else world.org_a.id
    with service_context():
        fire(None if unassigned else world.org_a)
        with pytest.raises(IntegrityError, match="alert_history_one_open_per_fingerprint"), transaction.atomic():
            AlertHistory.objects.create(
                organization_id=org_id, fingerprint=FP, source="webhook", title="dup", starts_at=SATURDAY
            )


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
    raise AssertionError("the second transaction never waited for the first")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("unassigned", [False, True])
def test_two_transactions_firing_one_identity_at_once_leave_one_open_alert(world, unassigned):
    org = None if unassigned else world.org_a
    first_inserted, release_first = threading.Event(), threading.Event()
    results, errors = {}, []

    def run(name, value, hold=False):
        try:
            with service_context():
                results[name] = fire(org, value=value)
                if hold:  # keep the first transaction open until the second is blocked on its row
                    first_inserted.set()
                    release_first.wait(10)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            first_inserted.set()
            connection.close()

    first = threading.Thread(target=run, args=("first", 1.0, True))
    first.start()
    assert first_inserted.wait(10)
    second = threading.Thread(target=run, args=("second", 2.0))
    second.start()
    try:
        _wait_until_a_backend_waits_on_a_lock()
    finally:
        release_first.set()
        first.join(10)
        second.join(10)
    assert errors == []
    (a1, created1), (a2, created2) = results["first"], results["second"]
    assert (created1, created2) == (True, False) and a1.pk == a2.pk
    with service_context():
        assert list(AlertHistory.objects.values_list("status", "value")) == [("firing", 2.0)]


def test_vendor_of_another_organization_neither_sees_nor_changes_an_alert(world):
    with service_context():
        alert, _ = fire(world.org_a)
    with vendor_context(world.org_b.id):
        assert AlertHistory.objects.count() == 0
        assert AlertHistory.objects.filter(pk=alert.pk).update(status="resolved") == 0
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM alert_history WHERE id = %s", [alert.pk])
            assert cur.fetchone() == (0,)
        # Nor can it write an alert into organization A.
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            fire(world.org_a, fingerprint="0000000000000001")
    with vendor_context(world.org_a.id):
        assert list(AlertHistory.objects.values_list("status", flat=True)) == ["firing"]
    with staff_context():
        assert AlertHistory.objects.count() == 1
