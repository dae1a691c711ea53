"""Demo business data for ``manage.py seed_demo``: weeks of hourly business events with a daily and weekly
rhythm, funnels, segments and an alert rule per organization, and one organization's payments outage in
the last hour (its open incident then shows a business impact).

Set-based: the events are generated in Python (deterministic per organization) and stored with one COPY
per organization (``business.services.events_copy``); funnels, revenue, feature usage and segments are
then computed by the SQL functions, once for the whole period.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

from business.models import BusinessEvent
from business.services import alert_rule_save, business_daily_compute, events_copy, funnel_save, segment_save

# The currency of an organization's payments, by the region of its time zone; and how many units a
# typical £1 booking is worth in it (so amounts look believable).
CURRENCIES = {
    "Europe/London": ("GBP", 1),
    "Europe/Paris": ("EUR", 1.2),
    "Europe/Berlin": ("EUR", 1.2),
    "Australia/Sydney": ("AUD", 1.9),
    "Pacific/Auckland": ("NZD", 2.1),
    "Asia/Tokyo": ("JPY", 190),
    "Asia/Kolkata": ("INR", 105),
    "Africa/Johannesburg": ("ZAR", 23),
    "America/Sao_Paulo": ("BRL", 6.9),
}
DEFAULT_CURRENCY = ("USD", 1.27)
# Share of the day's enquiries by local hour (0..23): quiet nights, a lunchtime and an evening peak.
HOURLY = (
    0.1,
    0.05,
    0.03,
    0.03,
    0.05,
    0.1,
    0.3,
    0.6,
    0.9,
    1.1,
    1.2,
    1.3,
    1.4,
    1.3,
    1.2,
    1.1,
    1.1,
    1.2,
    1.4,
    1.6,
    1.7,
    1.4,
    0.9,
    0.4,
)
# By ISO weekday (1 Monday .. 7 Sunday): enquiries and bookings peak on weekday evenings and Sunday,
# RSVPs and gallery views on the weekend (after the weddings).
WEEKDAY_ENQUIRIES = {1: 1.1, 2: 1.0, 3: 1.0, 4: 1.0, 5: 0.8, 6: 0.6, 7: 1.3}
WEEKDAY_GUESTS = {1: 0.9, 2: 0.8, 3: 0.8, 4: 0.9, 5: 1.1, 6: 1.5, 7: 1.6}
# The organization whose payments fail over the last hour (seed_demo's latency spike is on its payments).
OUTAGE_SLUG = "acme-weddings"
OPTIONAL_FEATURES = ["seating_planner", "timeline_builder", "vendor_chat", "mood_board"]
DEMO_PROPERTY = {"source": "seed_demo"}
FUNNELS = (
    ("Enquiry to payment", ["form_submitted", "booking_created", "payment_succeeded"]),
    ("Gallery to booking", ["gallery_viewed", "form_submitted", "booking_created"]),
)
SEGMENTS = (
    ("Weddings in the next 30 days", {"wedding_from_days": 0, "wedding_to_days": 30}),
    ("Weddings this week", {"wedding_from_days": 0, "wedding_to_days": 6}),
    (
        "Married in the last 30 days",
        {"wedding_from_days": -30, "wedding_to_days": -1, "statuses": ["confirmed", "completed"]},
    ),
)


def _count(rng: random.Random, mean: float) -> int:
    """An integer with expectation ``mean`` (floor plus a Bernoulli of the fraction)."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)


def demo_events(*, organization, start: dt.datetime, end: dt.datetime, outage: bool) -> list[tuple]:
    """The organization's events from ``start`` to ``end`` (whole hours), as ``events_copy`` tuples."""
    rng = random.Random(f"business:{organization.slug}:{start.isoformat()}")
    tz = organization.tz
    currency, scale = CURRENCIES.get(organization.timezone, DEFAULT_CURRENCY)
    size = 0.3 + rng.random() * 1.2  # some vendors are busier than others
    org = organization.id if isinstance(organization.id, uuid.UUID) else uuid.UUID(str(organization.id))
    props = '{"source":"seed_demo"}'
    # Features beyond the event types: each vendor uses a few of them (feature_usage counts them apart).
    extras = rng.sample(OPTIONAL_FEATURES, k=rng.randrange(1, len(OPTIONAL_FEATURES) + 1))
    extra_props = [f'{{"source":"seed_demo","feature":"{f}"}}' for f in extras]
    rows = []
    hour = start
    n = 0
    outage_from = end - dt.timedelta(hours=1)
    while hour < end:
        local = hour.astimezone(tz)
        share = HOURLY[local.hour]
        enquiries = _count(rng, 3 * size * share * WEEKDAY_ENQUIRIES[local.isoweekday()])
        guests = share * WEEKDAY_GUESTS[local.isoweekday()] * size
        for kind, mean in (("gallery_viewed", 3 * guests), ("rsvp_submitted", 1.5 * guests)):
            for _ in range(_count(rng, mean)):
                n += 1
                at = hour + dt.timedelta(seconds=rng.randrange(3600))
                if kind == "rsvp_submitted" and outage and at >= outage_from and rng.random() < 0.6:
                    continue  # the RSVP form's payments widget hangs: most guests give up
                feature = rng.choice(extra_props) if kind == "gallery_viewed" and rng.random() < 0.3 else props
                rows.append((org, kind, f"guest-{rng.randrange(5000)}", feature, None, "", at))
        for _ in range(enquiries):
            n += 1
            actor = f"client-{n}"
            at = hour + dt.timedelta(seconds=rng.randrange(2400))
            if rng.random() < 0.6:  # most enquiries come after a look at the vendor's gallery
                looked = at - dt.timedelta(seconds=rng.randrange(60, 900))
                rows.append((org, "gallery_viewed", actor, props, None, "", looked))
            rows.append((org, "form_submitted", actor, props, None, "", at))
            if rng.random() > 0.45:
                continue
            value = Decimal(round(rng.lognormvariate(6.6, 0.5) * scale)).quantize(Decimal(1))
            at += dt.timedelta(seconds=rng.randrange(60, 900))
            rows.append((org, "booking_created", actor, props, value, currency, at))
            deposit = (value * Decimal("0.3")).quantize(Decimal(1))
            at += dt.timedelta(seconds=rng.randrange(30, 300))
            broken = outage and at >= outage_from
            if rng.random() < (0.85 if broken else 0.07):
                rows.append((org, "payment_failed", actor, props, deposit, currency, at))
                at += dt.timedelta(seconds=rng.randrange(30, 300))
                if broken or rng.random() < 0.4:
                    continue
            rows.append((org, "payment_succeeded", actor, props, deposit, currency, at))
        hour += dt.timedelta(hours=1)
    if outage:  # the payment provider is down for the last hour: clients retry and fail, whatever the hour
        for _ in range(14 + rng.randrange(6)):
            n += 1
            at = outage_from + dt.timedelta(seconds=rng.randrange(3600))
            amount = Decimal(round(rng.lognormvariate(5.4, 0.4) * scale)).quantize(Decimal(1))
            rows.append((org, "payment_failed", f"client-{n}", props, amount, currency, at))
    return [r for r in rows if r[6] < end]


def demo_business_seed(*, organizations: dict, now: dt.datetime, weeks: int = 4) -> dict:
    """Seed ``weeks`` weeks (and the current hour so far) of business events for every organization, its
    funnels, segments and two alert rules (successful payments dropping, failed payments rising), then
    compute the days. Idempotent: an organization with demo events since the period's start is left alone
    (definitions are upserted). Runs in the caller's (service) context. Returns counts
    ``{"events", "organizations", "computed"}``.
    """
    end = now
    # From the hour before ``now`` ``weeks`` weeks ago: the oldest baseline window is covered too.
    start = (now - dt.timedelta(weeks=weeks, hours=1)).replace(minute=0, second=0, microsecond=0)
    written = seeded = 0
    for slug, org in organizations.items():
        for name, steps in FUNNELS:
            existing = org_funnel(org, name)
            funnel_save(organization=org, name=name, steps=steps, funnel=existing)
        for name, rule in SEGMENTS:
            from business.models import UserSegment

            segment_save(
                organization=org,
                name=name,
                rule=rule,
                segment=UserSegment.objects.filter(organization=org, name=name).first(),
            )
        alert_rule_save(
            organization=org,
            name="Successful payments dropping",
            event_type="payment_succeeded",
            threshold_percent=60,
            min_baseline=3,
            window_minutes=60,
            severity="warning",
        )
        alert_rule_save(
            organization=org,
            name="Failed payments rising",
            event_type="payment_failed",
            direction="rise",
            threshold_percent=200,
            min_baseline=2,
            window_minutes=60,
            severity="warning",
            priority="medium",
        )  # an alert beside the outage's incident, not another
        if BusinessEvent.objects.filter(
            organization=org, timestamp__gte=start, properties__contains=DEMO_PROPERTY
        ).exists():
            continue
        written += events_copy(rows=demo_events(organization=org, start=start, end=end, outage=slug == OUTAGE_SLUG))
        seeded += 1
    first_day = start.date() - dt.timedelta(days=1)
    computed = business_daily_compute(from_day=first_day, to_day=now.date() + dt.timedelta(days=1))
    return {"events": written, "organizations": seeded, "computed": sum(computed.values())}


def org_funnel(org, name):
    """The organization's funnel ``name`` or None."""
    from business.models import ConversionFunnel

    return ConversionFunnel.objects.filter(organization=org, name=name).first()
