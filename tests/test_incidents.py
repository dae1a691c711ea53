"""Incidents: opening from alerts (wedding-day protocol, local time zones), transitions, selectors, RLS.

Time: PostgreSQL's ``now()`` is not moved by time_machine, so the wedding-day
decision is tested through the two-argument SQL form
``create_incident_from_alert(alert_id, at)`` (``incident_open_from_alert(now=…)``);
the one-argument contract form is tested against ``wedding_day_protocol(org, now())``.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.http import Http404
from django.test import RequestFactory

from alerts.models import AlertHistory
from incidents.models import Incident, IncidentUpdate
from incidents.selectors import get_incident_for_user, open_incidents
from incidents.services import incident_acknowledge, incident_open_from_alert, incident_resolve
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

# 2026-06-12 22:30 UTC: Saturday 08:30 in Sydney, Friday 23:30 in London (BST).
SYDNEY_SATURDAY_LONDON_FRIDAY = dt.datetime(2026, 6, 12, 22, 30, tzinfo=dt.UTC)


def _sql(query, params=None):
    with connection.cursor() as cur:
        cur.execute(query, params or [])
        return cur.fetchall()


@pytest.fixture
def make_alert(world):
    def make(org, *, title="booking-api p95 latency high", severity="critical", starts_at=WEDNESDAY, fingerprint=None):
        with service_context():
            return AlertHistory.objects.create(
                organization=org,
                source=AlertHistory.Source.ALERTMANAGER,
                fingerprint=fingerprint or f"fp-{AlertHistory.objects.count()}",
                title=title,
                description="p95 above 800 ms for 5 minutes",
                severity=severity,
                priority="high",
                labels={"alertname": "HighLatency", "service": "booking-api"},
                starts_at=starts_at,
            )

    return make


def _open(alert, now):
    with service_context():
        return incident_open_from_alert(alert=alert, now=now)


def test_alert_on_a_wedding_day_opens_p0_incident_linked_to_the_earliest_ceremony(world, make_alert):
    with service_context():
        kw = {"organization": world.org_a, "wedding_date": dt.date(2026, 6, 10)}
        Wedding.objects.create(**kw, couple_name="Late", ceremony_time=dt.time(15, 0))
        early = Wedding.objects.create(**kw, couple_name="Early", ceremony_time=dt.time(11, 0))
        Wedding.objects.create(**kw, couple_name="Cancelled", ceremony_time=dt.time(9, 0), status="cancelled")
    alert = make_alert(world.org_a, starts_at=WEDNESDAY - dt.timedelta(minutes=3))

    incident = _open(alert, WEDNESDAY)

    assert incident.priority == "p0"
    assert incident.title == "WEDDING DAY: booking-api p95 latency high"
    assert incident.wedding_impact == "wedding_day_critical"
    assert incident.wedding_id == early.id
    assert incident.severity == "critical"
    assert incident.status == "open"
    assert incident.organization_id == world.org_a.id
    assert incident.detected_at == alert.starts_at
    with service_context():
        assert AlertHistory.objects.get(pk=alert.pk).incident_id == incident.id


def test_cancelled_wedding_alone_does_not_make_a_wedding_day(world, make_alert):
    with service_context():
        Wedding.objects.create(
            organization=world.org_a, wedding_date=dt.date(2026, 6, 10), couple_name="Off", status="cancelled"
        )
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    assert (incident.priority, incident.wedding_impact, incident.wedding_id) == ("p1", "none", None)


def test_alert_on_a_local_saturday_without_wedding_opens_p0_without_wedding(world, make_alert):
    incident = _open(make_alert(world.org_a, title="payments down"), SATURDAY)
    assert incident.priority == "p0"
    assert incident.title == "WEDDING DAY: payments down"
    assert incident.wedding_impact == "wedding_day_critical"
    assert incident.wedding_id is None


def test_critical_alert_on_a_weekday_without_wedding_opens_ordinary_p1(world, make_alert):
    incident = _open(make_alert(world.org_a, title="payments down"), WEDNESDAY)
    assert (incident.priority, incident.title, incident.wedding_impact) == ("p1", "payments down", "none")
    assert incident.wedding_id is None


@pytest.mark.parametrize(
    "severity,priority", [("emergency", "p1"), ("critical", "p1"), ("warning", "p2"), ("info", "p2")]
)
def test_weekday_priority_follows_the_alert_severity(world, make_alert, severity, priority):
    incident = _open(make_alert(world.org_a, severity=severity), WEDNESDAY)
    assert (incident.priority, incident.severity) == (priority, severity)


def test_wedding_day_is_decided_in_the_organizations_time_zone(world, make_alert):
    with service_context():
        # Sydney's local date 2026-06-13 (a Saturday) has a wedding; the UTC date is still the 12th.
        sydney = Wedding.objects.create(
            organization=world.org_b, wedding_date=dt.date(2026, 6, 13), couple_name="C & D"
        )
        # London's wedding is on its local Saturday, which has not begun there yet.
        Wedding.objects.create(organization=world.org_a, wedding_date=dt.date(2026, 6, 13), couple_name="A & B")
    in_sydney = _open(make_alert(world.org_b), SYDNEY_SATURDAY_LONDON_FRIDAY)
    in_london = _open(make_alert(world.org_a), SYDNEY_SATURDAY_LONDON_FRIDAY)

    assert (in_sydney.priority, in_sydney.wedding_id) == ("p0", sydney.id)
    assert (in_london.priority, in_london.wedding_impact, in_london.wedding_id) == ("p1", "none", None)


def test_opening_twice_returns_the_same_incident_and_writes_nothing_more(world, make_alert):
    with service_context():
        NotificationChannel.objects.create(organization=None, kind="webhook", name="ops", config={"url": "http://x/"})
    alert = make_alert(world.org_a)
    first = _open(alert, WEDNESDAY)
    again = _open(alert, SATURDAY)  # a different day changes nothing either
    with service_context():
        (sql_again,) = _sql("SELECT create_incident_from_alert(%s, %s)", [alert.pk, SATURDAY])[0]
        assert again.id == first.id == sql_again
        assert again.priority == "p1"
        assert Incident.objects.count() == 1
        assert sorted(IncidentUpdate.objects.values_list("kind", flat=True)) == ["created", "notification"]
        assert NotificationDelivery.objects.filter(event="incident.opened").count() == 1


def test_opening_writes_a_vendor_visible_timeline_entry_naming_the_alert(world, make_alert):
    alert = make_alert(world.org_a, title="gallery uploads failing")
    incident = _open(alert, WEDNESDAY)
    with vendor_context(world.org_a.id):
        (update,) = IncidentUpdate.objects.filter(incident_id=incident.id)
    assert update.kind == "created" and update.vendor_visible is True
    assert "gallery uploads failing" in update.message and str(alert.id) in update.message
    assert update.organization_id == world.org_a.id


def test_opening_enqueues_incident_opened_only_when_newly_created(world, make_alert):
    with service_context():
        ch_a = NotificationChannel.objects.create(organization=world.org_a, kind="webhook", name="a", config={})
        ch_ops = NotificationChannel.objects.create(organization=None, kind="webhook", name="ops", config={})
        NotificationChannel.objects.create(organization=world.org_b, kind="webhook", name="b", config={})
    alert = make_alert(world.org_a)
    incident = _open(alert, SATURDAY)
    _open(alert, SATURDAY)
    with service_context():
        rows = NotificationDelivery.objects.filter(event="incident.opened", incident_id=incident.pk)
        assert sorted(r.channel_id for r in rows) == sorted([ch_a.id, ch_ops.id])
        payload = rows[0].payload
    assert payload["title"].startswith("WEDDING DAY: ") and payload["priority"] == "p0"
    assert payload["organization"] == "rosewood-florals"
    assert payload["labels"] == {"alertname": "HighLatency", "service": "booking-api"}


def test_incident_and_its_notifications_roll_back_together(world, make_alert):
    with service_context():
        NotificationChannel.objects.create(organization=None, kind="webhook", name="ops", config={})
    alert = make_alert(world.org_a)
    with pytest.raises(RuntimeError):
        with service_context():
            incident_open_from_alert(alert=alert, now=WEDNESDAY)
            raise RuntimeError("the caller failed after opening")
    with service_context():
        assert Incident.objects.count() == 0
        assert NotificationDelivery.objects.count() == 0
        assert AlertHistory.objects.get(pk=alert.pk).incident_id is None


def test_unassigned_alert_opens_a_staff_only_incident(world, make_alert):
    incident = _open(make_alert(None, title="unknown org"), SATURDAY)
    assert incident.organization_id is None
    assert (incident.priority, incident.wedding_impact) == ("p1", "none")  # no organization: no wedding day
    with staff_context():
        assert Incident.objects.filter(pk=incident.pk).exists()
    with vendor_context(world.org_a.id):
        assert not Incident.objects.filter(pk=incident.pk).exists()


def test_one_argument_sql_contract_decides_at_database_now(world, make_alert):
    alert = make_alert(world.org_a)
    with service_context():
        ((incident_id, protocol_on),) = _sql(
            "SELECT create_incident_from_alert(%s), (SELECT active FROM wedding_day_protocol(%s, now()))",
            [alert.pk, world.org_a.id],
        )
        incident = Incident.objects.get(pk=incident_id)
    assert incident.priority == ("p0" if protocol_on else "p1")
    assert incident.title.startswith("WEDDING DAY: ") is protocol_on


# --- RLS -------------------------------------------------------------------


def test_vendor_of_another_org_sees_no_incident_by_orm_or_raw_sql(world, make_alert):
    incident = _open(make_alert(world.org_a), SATURDAY)
    with vendor_context(world.org_b.id):
        assert not Incident.objects.filter(pk=incident.pk).exists()
        assert not IncidentUpdate.objects.filter(incident_id=incident.pk).exists()
        for table in ("incidents", "incident_updates", "apm_incidents"):
            assert _sql(f"SELECT count(*) FROM {table}") == [(0,)], table
    with vendor_context(world.org_a.id):
        assert _sql("SELECT id FROM apm_incidents") == [(incident.id,)]


def test_vendor_cannot_open_an_incident_from_another_orgs_alert(world, make_alert):
    alert = make_alert(world.org_a)
    with vendor_context(world.org_b.id):
        with pytest.raises(DatabaseError, match="not found"):
            with transaction.atomic():
                _sql("SELECT create_incident_from_alert(%s, %s)", [alert.pk, WEDNESDAY])
    with service_context():
        assert Incident.objects.count() == 0


def test_without_context_the_function_sees_no_alert(world, make_alert):
    alert = make_alert(world.org_a)
    with pytest.raises(DatabaseError, match="not found"):
        with transaction.atomic():
            _sql("SELECT create_incident_from_alert(%s)", [alert.pk])


# --- transitions -------------------------------------------------------------


def test_acknowledge_then_resolve_sets_timestamps_and_timeline(world, make_alert):
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    ack_at = WEDNESDAY + dt.timedelta(minutes=4)
    res_at = WEDNESDAY + dt.timedelta(minutes=30)
    with staff_context(world.staff.pk):
        incident_acknowledge(incident=incident, by=world.staff, now=ack_at)
        incident_resolve(incident=incident, by=world.staff, now=res_at)
        stored = Incident.objects.get(pk=incident.pk)
        updates = list(IncidentUpdate.objects.filter(incident=incident).order_by("created_at"))
    assert (stored.status, stored.acknowledged_at, stored.resolved_at) == ("resolved", ack_at, res_at)
    assert incident.status == "resolved"
    assert [u.kind for u in updates] == ["created", "status_change", "status_change"]
    assert "open to acknowledged by staff" in updates[1].message and updates[1].author_id == world.staff.pk
    assert "acknowledged to resolved" in updates[2].message


def test_acknowledging_twice_is_refused(world, make_alert):
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    with staff_context():
        incident_acknowledge(incident=incident, by=world.staff, now=WEDNESDAY)
        with pytest.raises(ValidationError) as err:
            incident_acknowledge(incident=incident, by=world.staff, now=WEDNESDAY)
        assert "acknowledged to acknowledged" in str(err.value.message_dict["status"])
        assert IncidentUpdate.objects.filter(incident=incident, kind="status_change").count() == 1


def test_resolving_a_resolved_incident_is_refused_and_resolve_works_unacknowledged(world, make_alert):
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    with staff_context():
        incident_resolve(incident=incident, by=None, now=WEDNESDAY)
        assert Incident.objects.get(pk=incident.pk).acknowledged_at is None
        with pytest.raises(ValidationError, match="resolved to resolved"):
            incident_resolve(incident=incident, by=None, now=WEDNESDAY)
        with pytest.raises(ValidationError, match="resolved to acknowledged"):
            incident_acknowledge(incident=incident, by=None, now=WEDNESDAY)


def test_transition_needs_an_aware_now(world, make_alert):
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    with staff_context(), pytest.raises(ValidationError, match="aware"):
        incident_acknowledge(incident=incident, by=None, now=dt.datetime(2026, 6, 10, 12, 0))


def test_vendor_cannot_acknowledge_another_orgs_incident(world, make_alert):
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    with vendor_context(world.org_b.id), pytest.raises(Incident.DoesNotExist):
        incident_acknowledge(incident=incident, by=world.bob, now=WEDNESDAY)


# --- selectors -------------------------------------------------------------


def test_open_incidents_orders_wedding_day_first_then_priority_then_age(world, make_alert):
    hours_ago = WEDNESDAY - dt.timedelta(hours=2)
    warning_old = _open(make_alert(world.org_a, severity="warning", starts_at=hours_ago), WEDNESDAY)
    critical_new = _open(make_alert(world.org_a, starts_at=WEDNESDAY - dt.timedelta(minutes=5)), WEDNESDAY)
    critical_old = _open(make_alert(world.org_a, starts_at=WEDNESDAY - dt.timedelta(hours=1)), WEDNESDAY)
    wedding_day = _open(make_alert(world.org_b, severity="warning", starts_at=SATURDAY), SATURDAY)
    resolved = _open(make_alert(world.org_a), WEDNESDAY)
    with staff_context():
        incident_resolve(incident=resolved, by=None, now=WEDNESDAY)
        assert list(open_incidents()) == [wedding_day, critical_old, critical_new, warning_old]
        assert list(open_incidents(organization_id=world.org_b.id)) == [wedding_day]
    with vendor_context(world.org_a.id):
        assert list(open_incidents()) == [critical_old, critical_new, warning_old]


def test_get_incident_for_user_answers_404_for_another_org(world, make_alert):
    incident = _open(make_alert(world.org_a), WEDNESDAY)
    rf = RequestFactory()

    def request_for(user):
        request = rf.get("/")
        request.user = user
        return request

    with vendor_context(world.org_a.id, world.alice.pk):
        assert get_incident_for_user(request_for(world.alice), incident.pk) == incident
        with pytest.raises(Http404):
            get_incident_for_user(request_for(world.alice), "not-a-uuid")
    # Even with a platform context on the connection, the ORM filter keeps bob out.
    with service_context():
        with pytest.raises(Http404):
            get_incident_for_user(request_for(world.bob), incident.pk)
        with pytest.raises(Http404):
            get_incident_for_user(request_for(world.charlie), incident.pk)
        assert get_incident_for_user(request_for(world.staff), incident.pk) == incident
