"""The daily business computations in SQL: revenue metrics, funnels, feature usage and segments, on local days,
idempotent, and under RLS."""

import datetime as dt
from decimal import Decimal

import pytest

from business import selectors, tasks
from business.models import ConversionFunnelStep, FeatureUsage, RevenueMetric, UserSegmentCount
from business.services import business_daily_compute, funnel_save, segment_save
from tests.conftest import WEDNESDAY
from tests.factories import make_business_events
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

DAY = WEDNESDAY.date()  # 2026-06-10
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _compute(from_day=DAY - dt.timedelta(days=1), to_day=DAY + dt.timedelta(days=1)):
    with service_context():
        return business_daily_compute(from_day=from_day, to_day=to_day)


def _revenue(org):
    with service_context():
        return {(m.day, m.currency): m for m in RevenueMetric.objects.filter(organization=org)}


def test_revenue_metrics_count_bookings_payments_and_failed_revenue_per_local_day_and_currency(world):
    # Sydney is UTC+10 in June: 20:00 UTC on the 9th is the 10th there.
    sydney_morning = dt.datetime(2026, 6, 9, 20, 0, tzinfo=dt.UTC)
    make_business_events(
        world.org_b,
        [
            {"event_type": "booking_created", "timestamp": sydney_morning, "revenue_impact": "2000", "currency": "AUD"},
            {"event_type": "booking_created", "timestamp": sydney_morning + M},
            {
                "event_type": "payment_succeeded",
                "timestamp": sydney_morning + 2 * M,
                "revenue_impact": "600",
                "currency": "AUD",
            },
            {
                "event_type": "payment_succeeded",
                "timestamp": sydney_morning + 3 * M,
                "revenue_impact": "400",
                "currency": "AUD",
            },
            {
                "event_type": "payment_failed",
                "timestamp": sydney_morning + 4 * M,
                "revenue_impact": "250.50",
                "currency": "AUD",
            },
            {
                "event_type": "payment_failed",
                "timestamp": sydney_morning + 5 * M,
                "revenue_impact": "99",
                "currency": "NZD",
            },
            {"event_type": "gallery_viewed", "timestamp": sydney_morning},
        ],
        now=WEDNESDAY,
    )
    _compute()
    rows = _revenue(world.org_b)
    assert set(rows) == {(DAY, "AUD"), (DAY, "NZD"), (DAY, "XXX")}
    aud = rows[(DAY, "AUD")]
    assert (aud.bookings, aud.payments_succeeded, aud.payments_failed) == (1, 2, 1)
    assert aud.payment_success_rate == pytest.approx(2 / 3)
    assert (aud.revenue, aud.failed_revenue) == (Decimal("1000"), Decimal("250.5"))
    assert rows[(DAY, "XXX")].bookings == 1 and rows[(DAY, "XXX")].payment_success_rate is None
    assert rows[(DAY, "NZD")].payment_success_rate == 0.0
    with vendor_context(world.org_b.id):
        health = selectors.revenue_health(organization=world.org_b, today=DAY, days=3)
    assert health.currency == "AUD" and [d.bookings for d in health.days] == [0, 0, 2]
    assert health.days[-1].success_rate == pytest.approx(2 / 4)


def test_recomputing_is_idempotent_and_counts_a_late_event(world):
    at = WEDNESDAY - 2 * H
    make_business_events(world.org_a, [{"event_type": "booking_created", "timestamp": at}], now=WEDNESDAY)
    first = _compute()
    assert _compute() == first
    assert _revenue(world.org_a)[(DAY, "XXX")].bookings == 1
    make_business_events(world.org_a, [{"event_type": "booking_created", "timestamp": at}], now=WEDNESDAY)
    tasks_result = _compute()
    assert tasks_result == first
    assert _revenue(world.org_a)[(DAY, "XXX")].bookings == 2


def test_a_funnel_counts_clients_who_took_the_steps_in_order_on_one_local_day(world):
    start = WEDNESDAY - 3 * H
    events = []
    # c1 and c2 go all the way; c3 books but never enquired first (does not enter); c4 enquires only;
    # c5 paid before booking (stops at step 2); c6 enquires, books the next local day (stops at step 1).
    for actor in ("c1", "c2"):
        events += [
            {"event_type": "form_submitted", "actor_id": actor, "timestamp": start},
            {"event_type": "booking_created", "actor_id": actor, "timestamp": start + M},
            {"event_type": "payment_succeeded", "actor_id": actor, "timestamp": start + 2 * M},
        ]
    events += [
        {"event_type": "booking_created", "actor_id": "c3", "timestamp": start},
        {"event_type": "form_submitted", "actor_id": "c4", "timestamp": start},
        {"event_type": "payment_succeeded", "actor_id": "c5", "timestamp": start},
        {"event_type": "form_submitted", "actor_id": "c5", "timestamp": start + M},
        {"event_type": "booking_created", "actor_id": "c5", "timestamp": start + 2 * M},
        {
            "event_type": "form_submitted",
            "actor_id": "c6",
            "timestamp": dt.datetime(2026, 6, 10, 22, 50, tzinfo=dt.UTC),
        },
        {
            "event_type": "booking_created",
            "actor_id": "c6",
            "timestamp": dt.datetime(2026, 6, 10, 23, 10, tzinfo=dt.UTC),
        },
        {"event_type": "form_submitted", "timestamp": start},
    ]  # no actor: not counted
    make_business_events(world.org_a, events, now=WEDNESDAY + 12 * H)
    with service_context():
        funnel = funnel_save(
            organization=world.org_a,
            name="Enquiry to payment",
            steps=["form_submitted", "booking_created", "payment_succeeded"],
        )
    _compute()
    with service_context():
        steps = {(s.day, s.step): s for s in ConversionFunnelStep.objects.filter(funnel=funnel)}
    # London is UTC+1: 22:50 UTC is 23:50 on the 10th, 23:10 UTC is 00:10 on the 11th.
    assert [(steps[(DAY, i)].event_type, steps[(DAY, i)].actors) for i in range(3)] == [
        ("form_submitted", 5),
        ("booking_created", 3),
        ("payment_succeeded", 2),
    ]
    assert steps[(DAY, 1)].conversion == pytest.approx(3 / 5)
    assert steps[(DAY, 2)].conversion == pytest.approx(2 / 5)
    assert steps[(DAY, 2)].step_conversion == pytest.approx(2 / 3)
    assert (DAY + dt.timedelta(days=1), 0) not in steps  # c6's booking day has no one entering
    with vendor_context(world.org_a.id):
        (summary,) = selectors.funnel_summaries(organization=world.org_a, from_day=DAY, to_day=DAY)
    assert [s[1] for s in summary.steps] == [5, 3, 2] and summary.overall == pytest.approx(0.4)


def test_feature_usage_counts_active_users_per_feature_and_active_organizations(world):
    at = WEDNESDAY - H
    make_business_events(
        world.org_a,
        [
            {"event_type": "gallery_viewed", "actor_id": "u1", "timestamp": at},
            {"event_type": "gallery_viewed", "actor_id": "u1", "timestamp": at + M},
            {"event_type": "gallery_viewed", "actor_id": "u2", "timestamp": at + M},
            {"event_type": "gallery_viewed", "timestamp": at},
            {"event_type": "rsvp_submitted", "actor_id": "u3", "timestamp": at, "properties": {"feature": "seating"}},
        ],
        now=WEDNESDAY,
    )
    make_business_events(
        world.org_b, [{"event_type": "gallery_viewed", "actor_id": "v1", "timestamp": at}], now=WEDNESDAY
    )
    _compute()
    with service_context():
        usage = {(u.organization_id, u.feature): (u.active_users, u.events) for u in FeatureUsage.objects.all()}
        across = {
            f["feature"]: f["organizations"]
            for f in selectors.active_organizations_per_feature(
                from_day=DAY - dt.timedelta(days=1), to_day=DAY + dt.timedelta(days=1)
            )
        }
    assert usage[(world.org_a.id, "gallery_viewed")] == (2, 4)
    assert usage[(world.org_a.id, "seating")] == (1, 1)
    assert across == {"gallery_viewed": 2, "seating": 1}


def test_segments_count_the_weddings_their_rule_selects_each_day(world):
    with service_context():
        for offset, status in (
            (0, "confirmed"),
            (10, "planned"),
            (30, "confirmed"),
            (31, "confirmed"),
            (5, "cancelled"),
            (-3, "completed"),
        ):
            Wedding.objects.create(
                organization=world.org_a,
                wedding_date=DAY + dt.timedelta(days=offset),
                couple_name=f"Couple {offset}",
                status=status,
            )
        soon = segment_save(
            organization=world.org_a, name="Next 30 days", rule={"wedding_from_days": 0, "wedding_to_days": 30}
        )
        past = segment_save(
            organization=world.org_a,
            name="Married lately",
            rule={"wedding_from_days": -7, "wedding_to_days": -1, "statuses": ["completed"]},
        )
    _compute(DAY, DAY + dt.timedelta(days=1))
    with service_context():
        counts = {(c.segment_id, c.day): c.members for c in UserSegmentCount.objects.all()}
    assert counts[(soon.pk, DAY)] == 3  # days 0, 10, 30; not 31 nor the cancelled one
    assert counts[(soon.pk, DAY + dt.timedelta(days=1))] == 3  # days 10, 30, 31
    assert counts[(past.pk, DAY)] == 1
    with service_context():
        (segment, today, trend), _ = selectors.segment_counts(organization=world.org_a, today=DAY, days=2)[::-1]
    assert segment == soon and today == 3


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ({"wedding_from_days": 5, "wedding_to_days": 1}, "must not be after"),
        ({"wedding_from_days": 0}, "wedding_to_days"),
        ({"wedding_from_days": 0, "wedding_to_days": 9999}, "730"),
        ({"wedding_from_days": 0, "wedding_to_days": 3, "statuses": ["eloped"]}, "statuses"),
        ({"wedding_from_days": 0, "wedding_to_days": 3, "colour": "red"}, "must be an object"),
    ],
)
def test_a_bad_segment_rule_is_refused_with_the_reason(world, rule, reason):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=reason), service_context():
        segment_save(organization=world.org_a, name="x", rule=rule)


def test_a_funnel_needs_two_to_eight_known_steps_and_a_free_name(world):
    from django.core.exceptions import ValidationError

    with service_context():
        funnel_save(organization=world.org_a, name="F", steps=["form_submitted", "booking_created"])
        with pytest.raises(ValidationError, match="steps"):
            funnel_save(organization=world.org_a, name="G", steps=["form_submitted"])
        with pytest.raises(ValidationError, match="unknown"):
            funnel_save(organization=world.org_a, name="G", steps=["form_submitted", "tea_drunk"])
        with pytest.raises(ValidationError, match="name"):
            funnel_save(organization=world.org_a, name="F", steps=["form_submitted", "booking_created"])


def test_a_vendor_context_recomputes_only_its_own_rows(world):
    at = WEDNESDAY - H
    for org in (world.org_a, world.org_b):
        make_business_events(org, [{"event_type": "booking_created", "timestamp": at}], now=WEDNESDAY)
    _compute()
    with vendor_context(world.org_a.id):
        business_daily_compute(from_day=DAY - dt.timedelta(days=1), to_day=DAY + dt.timedelta(days=1))
        assert {m.organization_id for m in RevenueMetric.objects.all()} == {world.org_a.id}
    assert (DAY, "XXX") in _revenue(world.org_b)  # org_b's rows were neither seen nor deleted


def test_the_beat_task_recomputes_the_recent_days(world, time_machine):
    time_machine.move_to(WEDNESDAY, tick=False)
    make_business_events(world.org_a, [{"event_type": "booking_created", "timestamp": WEDNESDAY - H}], now=WEDNESDAY)
    result = tasks.compute_daily.apply().get()
    assert result["business_revenue_metrics_compute"] == 1
    assert _revenue(world.org_a)[(DAY, "XXX")].bookings == 1


def test_cleanup_deletes_events_past_the_400_day_retention_in_batches(world):
    from business.models import BusinessEvent
    from business.services import business_events_cleanup

    old, kept = WEDNESDAY - dt.timedelta(days=60), WEDNESDAY - dt.timedelta(days=10)
    make_business_events(
        world.org_a,
        [{"event_type": "gallery_viewed", "timestamp": old}] * 5
        + [{"event_type": "gallery_viewed", "timestamp": kept}],
        now=WEDNESDAY,
    )
    with service_context():
        assert business_events_cleanup(now=old + dt.timedelta(days=401), batch=2) == 5
        assert list(BusinessEvent.objects.values_list("timestamp", flat=True)) == [kept]
