"""One wedding-day function for every app, and the rule evaluation's inline copy agrees with it.

``wedsync_ops.tenancy.wedding_day.wedding_day`` answers routing, incident opening, escalation and the
evaluation's Python side; ``alert_rule_evaluation`` inlines the same test (local Saturday or a wedding
that is not cancelled, on the organization's local date) for speed. The table below asks both at the
same instants, across time zones whose Saturday starts at different UTC times and across a DST change.
"""

import datetime as dt

import pytest

from alerts.models import AlertRule
from alerts.selectors import rule_evaluation_rows
from apm.models import ApmMetricAggregation
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization, Wedding
from wedsync_ops.tenancy.wedding_day import OFF, WeddingDay, wedding_day

UTC = dt.UTC

ZONES = {
    "london": "Europe/London",
    "sydney": "Australia/Sydney",
    "los-angeles": "America/Los_Angeles",
    "auckland": "Pacific/Auckland",
    "kolkata": "Asia/Kolkata",
}
# (instant in UTC, {org: expected local date}) — Friday 2026-06-12 / Saturday 13th / Sunday 14th, and the
# European DST change (Sunday 2026-10-25 01:00 UTC) with a Saturday on either side of it.
INSTANTS = [
    dt.datetime(2026, 6, 12, 13, 59, tzinfo=UTC),  # Sat 00:59 in Auckland, still Friday elsewhere
    dt.datetime(2026, 6, 12, 14, 0, tzinfo=UTC),  # Sat 00:00 in Sydney
    dt.datetime(2026, 6, 12, 18, 30, tzinfo=UTC),  # Sat 00:00 in Kolkata
    dt.datetime(2026, 6, 12, 22, 59, tzinfo=UTC),  # Fri 23:59 in London (BST)
    dt.datetime(2026, 6, 12, 23, 0, tzinfo=UTC),  # Sat 00:00 in London
    dt.datetime(2026, 6, 13, 6, 59, tzinfo=UTC),  # Fri 23:59 in Los Angeles (PDT)
    dt.datetime(2026, 6, 13, 7, 0, tzinfo=UTC),  # Sat 00:00 in Los Angeles
    dt.datetime(2026, 6, 13, 12, 0, tzinfo=UTC),  # Saturday noon in London; Sunday morning in Auckland
    dt.datetime(2026, 10, 24, 22, 59, tzinfo=UTC),  # Sat 23:59 in London (BST, before the change)
    dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC),  # Sun 00:00 in London
    dt.datetime(2026, 10, 17, 23, 30, tzinfo=UTC),  # Sun 00:30 BST in London; Sunday in Sydney
    dt.datetime(2026, 6, 10, 12, 0, tzinfo=UTC),  # a Wednesday: a wedding in Sydney, none elsewhere
]


@pytest.fixture
def orgs(db):
    with service_context():
        made = {slug: Organization.objects.create(slug=slug, name=slug, timezone=tz) for slug, tz in ZONES.items()}
        # A Wednesday wedding in Sydney (local date), and a cancelled one in London the same day.
        Wedding.objects.create(
            organization=made["sydney"],
            wedding_date=dt.date(2026, 6, 10),
            couple_name="A & B",
            ceremony_time=dt.time(15, 0),
        )
        Wedding.objects.create(
            organization=made["sydney"],
            wedding_date=dt.date(2026, 6, 10),
            couple_name="C & D",
            ceremony_time=dt.time(11, 0),
        )
        Wedding.objects.create(
            organization=made["london"], wedding_date=dt.date(2026, 6, 10), couple_name="E & F", status="cancelled"
        )
        rule = AlertRule.objects.create(
            organization=None,
            name="p95",
            metric_name="ms",
            aggregation="p95",
            threshold=500,
            wedding_day_threshold=100,
            window_minutes=5,
            for_seconds=0,
            min_samples=1,
        )
    return made, rule


def _expected(org: Organization, at: dt.datetime) -> bool:
    local = at.astimezone(org.tz).date()
    return local.isoweekday() == 6 or (org.slug == "sydney" and local == dt.date(2026, 6, 10))


@pytest.mark.parametrize("at", INSTANTS, ids=lambda at: at.strftime("%m-%d_%H%M"))
def test_the_function_and_the_rule_evaluation_agree_at_the_same_instants(orgs, at):
    made, _rule = orgs
    with service_context():
        for org in made.values():
            ApmMetricAggregation.objects.create(
                organization=org,
                service="api",
                metric_name="ms",
                bucket_seconds=60,
                bucket_start=at.replace(second=0, microsecond=0) - dt.timedelta(minutes=1),
                count=5,
                sum=1000,
                min=200,
                max=200,
                avg=200,
                p50=200,
                p95=200,
                p99=200,
            )
        rows = {r.organization_slug: r for r in rule_evaluation_rows(now=at)}
        answers = {slug: wedding_day(organization_id=org.id, at=at) for slug, org in made.items()}
    for slug, org in made.items():
        expected = _expected(org, at)
        assert answers[slug].on is expected, (slug, at)
        assert answers[slug].local_date == at.astimezone(org.tz).date()
        # The evaluation applies the wedding-day threshold exactly when the function says so, for the same reason.
        row = rows[slug]
        assert (row.threshold == 100) is expected, (slug, at, row.threshold_reason)
        if expected:
            assert row.threshold_reason == answers[slug].reason


def test_value_object_reason_and_wedding(orgs):
    made, _ = orgs
    wednesday = dt.datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 12:00 in Sydney
    with service_context():
        sydney = wedding_day(organization_id=made["sydney"].id, at=wednesday)
        london = wedding_day(organization_id=made["london"].id, at=wednesday)
        saturday = wedding_day(organization_id=made["london"].id, at=dt.datetime(2026, 6, 13, 9, 0, tzinfo=UTC))
        first = Wedding.objects.get(organization=made["sydney"], couple_name="C & D")
    assert sydney == WeddingDay(
        on=True,
        reason="wedding day: a wedding on 2026-06-10 (local)",
        local_date=dt.date(2026, 6, 10),
        wedding_id=first.id,
    )  # earliest ceremony
    assert london.on is False and london.wedding_id is None  # the cancelled wedding does not count
    assert saturday.on and saturday.reason == "wedding day: local Saturday 2026-06-13" and saturday.wedding_id is None
    assert bool(sydney) and not bool(london)


def test_no_organization_is_never_a_wedding_day_and_a_naive_instant_is_refused(db):
    assert wedding_day(organization_id=None, at=dt.datetime(2026, 6, 13, tzinfo=UTC)) is OFF
    with pytest.raises(ValueError, match="aware"):
        wedding_day(organization_id=None, at=dt.datetime(2026, 6, 13))


def test_an_organization_the_context_cannot_see_reads_as_off(orgs):
    from wedsync_ops.tenancy.context import vendor_context

    made, _ = orgs
    with vendor_context(made["london"].id):
        assert wedding_day(organization_id=made["sydney"].id, at=dt.datetime(2026, 6, 13, 3, tzinfo=UTC)).on is False
        assert wedding_day(organization_id=made["london"].id, at=dt.datetime(2026, 6, 13, 12, tzinfo=UTC)).on is True


@pytest.mark.parametrize("at", INSTANTS[:8] + INSTANTS[-1:], ids=lambda at: at.strftime("%m-%d_%H%M"))
def test_the_protocol_agrees_with_org_local_date_and_is_wedding_day(orgs, at):
    # Version 2 writes the bodies of org_local_date() and is_wedding_day() inline (to be inlinable):
    # it must still say what they say, for every organization, and off for an unknown one.
    made, _ = orgs
    from django.db import connection

    with service_context(), connection.cursor() as cur:
        cur.execute(
            "SELECT o.slug, p.active, p.reason,"
            " coalesce(is_wedding_day(o.id, org_local_date(o.id, %s)), false)"
            "   OR extract(isodow FROM org_local_date(o.id, %s)) = 6"
            " FROM organizations o CROSS JOIN LATERAL wedding_day_protocol(o.id, %s) p WHERE o.id = ANY(%s)",
            [at, at, at, [o.id for o in made.values()]],
        )
        rows = cur.fetchall()
        cur.execute("SELECT active, reason FROM wedding_day_protocol(gen_random_uuid(), %s)", [at])
        assert cur.fetchall() == [(False, None)]
    assert len(rows) == len(made)
    for slug, active, reason, by_parts in rows:
        assert active == by_parts == _expected(made[slug], at), slug
        assert (reason is not None) == active


def test_the_protocol_is_inlined_into_the_calling_query(orgs):
    # A set-returning SQL function is planned as part of its caller (no function scan per organization).
    from django.db import connection

    with service_context(), connection.cursor() as cur:
        cur.execute(
            "EXPLAIN SELECT o.id, p.active FROM organizations o CROSS JOIN LATERAL wedding_day_protocol(o.id, now()) p"
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "Function Scan" not in plan and "organizations_pkey" in plan and "weddings" in plan, plan
