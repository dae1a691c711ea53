"""Row-level security of the on-call tables, as the application role: an organization sees its own schedules,
people and pages, never another's nor the platform's; no context sees nothing; writes are checked too.
And the wedding-day layers follow the one wedding-day protocol (``wedding_day()``) at the same instants."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from incidents.services import incident_create
from oncall.schedule import wedding_day_at
from oncall.selectors import schedule_spec
from oncall.services import acknowledge_token_issue
from tests.conftest import WEDNESDAY
from tests.factories import make_person, make_schedule
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding
from wedsync_ops.tenancy.wedding_day import wedding_day

TABLES = [
    "oncall_schedules",
    "oncall_rotations",
    "oncall_rotation_participants",
    "oncall_overrides",
    "oncall_people",
    "oncall_contact_methods",
    "oncall_notification_rules",
    "oncall_acknowledge_tokens",
]


def _counts() -> dict:
    out = {}
    with connection.cursor() as cur:
        for table in TABLES + ["oncall_schedule_wedding_day_scope"]:
            cur.execute(f"SELECT count(*) FILTER (WHERE true) FROM {table}")
            out[table] = cur.fetchone()[0]
    return out


def _orgs_seen(table: str) -> set:
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT organization_id FROM {table}")
        return {row[0] for row in cur.fetchall()}


@pytest.fixture
def everyone(world):
    """A platform schedule (staff), one per organization (members), people with methods and rules, tokens."""
    w = world
    from oncall.services import override_create, profile_for

    w.priya = make_person("priya", methods={"email": "priya@ops.example"}, rules=[("email", 0)])
    w.rose = make_person(
        "rose", staff=False, organization=w.org_a, methods={"sms": "+447700900001"}, rules=[("sms", 0)]
    )
    w.bloom = make_person(
        "bloomy", staff=False, organization=w.org_b, methods={"sms": "+61491570001"}, rules=[("sms", 0)]
    )
    schedules = {}
    for org, person in ((None, w.priya), (w.org_a, w.rose), (w.org_b, w.bloom)):
        schedules[org] = make_schedule(
            f"on call {getattr(org, 'slug', 'platform')}",
            organization=org,
            scope=[w.org_a] if org is None else (),
            layers=[
                dict(
                    name="all",
                    position=1,
                    starts_on=dt.date(2026, 6, 1),
                    handoff_time=dt.time(9),
                    participants=[person],
                )
            ],
        )
        with service_context():
            override_create(
                schedule=schedules[org], user=person, starts_at=WEDNESDAY, ends_at=WEDNESDAY + dt.timedelta(hours=1)
            )
            profile_for(user=person)
    with service_context():
        for org, person in ((w.org_a, w.rose), (w.org_b, w.bloom), (w.org_a, w.priya)):
            incident = incident_create(organization=org, title="x", by=None, now=WEDNESDAY)
            acknowledge_token_issue(incident=incident, step=1, now=WEDNESDAY, user=person)
    w.schedules = schedules
    return w


def test_each_organization_sees_only_its_own_oncall_rows_and_no_context_sees_nothing(everyone):
    w = everyone
    with service_context():
        everything = _counts()
        assert all(everything[t] >= 2 for t in TABLES)
        assert {None, w.org_a.pk, w.org_b.pk} <= _orgs_seen("oncall_schedules")
    with vendor_context(w.org_a.pk):
        for table in TABLES:
            assert _orgs_seen(table) == {w.org_a.pk}, table
        assert _counts()["oncall_schedule_wedding_day_scope"] == 0  # staff-only
    with vendor_context(w.org_b.pk):
        for table in TABLES:
            assert _orgs_seen(table) == {w.org_b.pk}, table
    with transaction.atomic():
        assert set(_counts().values()) == {0}  # no context, no rows
    # The ops team's token for Rosewood's incident is the ops team's (staff-only), not Rosewood's.
    with vendor_context(w.org_a.pk), connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM oncall_acknowledge_tokens WHERE user_id = %s", [w.priya.pk])
        assert cur.fetchone()[0] == 0


def test_a_vendor_cannot_write_another_organizations_schedule(everyone):
    w = everyone
    with vendor_context(w.org_a.pk), connection.cursor() as cur:
        cur.execute("UPDATE oncall_schedules SET name = 'mine now' WHERE organization_id = %s", [w.org_b.pk])
        assert cur.rowcount == 0
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            cur.execute(
                "INSERT INTO oncall_schedules (id, organization_id, name, description, timezone, enabled,"
                " ical_token, created_at) VALUES (gen_random_uuid(), %s, 'x', '', 'UTC', true, 'tok', now())",
                [w.org_b.pk],
            )


def test_feeds_answer_only_their_own_token(everyone, client):
    w = everyone
    a, b = w.schedules[w.org_a], w.schedules[w.org_b]
    assert client.get(f"/oncall/feeds/schedule/{a.ical_token}.ics").status_code == 200
    body = client.get(f"/oncall/feeds/schedule/{b.ical_token}.ics").content.decode()
    assert "bloomy on call (on call bloom-and-vine)" in body and "rose on call" not in body


SYDNEY_SATURDAY_STARTS = dt.datetime(2026, 6, 12, 14, 0, tzinfo=dt.UTC)  # Sat 13 Jun 00:00 AEST


@pytest.mark.parametrize(
    "instant",
    [
        SYDNEY_SATURDAY_STARTS - dt.timedelta(seconds=1),
        SYDNEY_SATURDAY_STARTS,
        dt.datetime(2026, 6, 13, 13, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 13, 14, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 16, 3, 0, tzinfo=dt.UTC),  # Tuesday 13:00 AEST: a wedding
        dt.datetime(2026, 6, 16, 14, 0, tzinfo=dt.UTC),  # Wednesday 00:00 AEST: a cancelled wedding
        dt.datetime(2026, 10, 3, 13, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 3, 14, 0, tzinfo=dt.UTC),  # DST starts
    ],
)
def test_wedding_day_layers_follow_the_wedding_day_protocol_of_the_organization(world, instant):
    w = world
    with service_context():
        Wedding.objects.create(organization=w.org_b, wedding_date=dt.date(2026, 6, 16), couple_name="A & B")
        Wedding.objects.create(
            organization=w.org_b,
            wedding_date=dt.date(2026, 6, 17),
            couple_name="C & D",
            status=Wedding.Status.CANCELLED,
        )
        bloomy = make_person("bloomy", staff=False, organization=w.org_b)
        schedule = make_schedule(
            "Bloom on call",
            organization=w.org_b,
            tz="Australia/Sydney",
            layers=[
                dict(
                    name="wd",
                    position=1,
                    starts_on=dt.date(2026, 6, 1),
                    handoff_time=dt.time(0),
                    participants=[bloomy],
                    wedding_day_only=True,
                )
            ],
        )
        spec = schedule_spec(schedule, start=instant - dt.timedelta(days=1), end=instant + dt.timedelta(days=1))
        assert wedding_day_at(spec, instant) == wedding_day(organization_id=w.org_b.pk, at=instant).on
