"""Reads the business pages share (vendor page, staff overview). Every read runs under the caller's RLS context."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Sum

from .models import ConversionFunnel, ConversionFunnelStep, FeatureUsage, RevenueMetric, UserSegment, UserSegmentCount

NO_CURRENCY = "XXX"


def local_today(organization, now: dt.datetime) -> dt.date:
    """The organization's local date at ``now``."""
    return now.astimezone(organization.tz).date()


def days_back(today: dt.date, count: int) -> list[dt.date]:
    """The ``count`` days ending with ``today``, oldest first."""
    return [today - dt.timedelta(days=count - 1 - i) for i in range(count)]


@dataclass
class RevenueDay:
    """One local day of an organization's money: counts over every currency, amounts in ``currency``."""

    day: dt.date
    bookings: int = 0
    succeeded: int = 0
    failed: int = 0
    revenue: Decimal = Decimal(0)
    failed_revenue: Decimal = Decimal(0)

    @property
    def success_rate(self) -> float | None:
        """Succeeded / (succeeded + failed), 0..1, or None without payments."""
        total = self.succeeded + self.failed
        return self.succeeded / total if total else None


@dataclass
class RevenueHealth:
    """``days`` (oldest first, every day present) and the ``currency`` the amounts are in (the one with most
    revenue in the period; '' when none)."""

    days: list[RevenueDay]
    currency: str

    def total(self, name: str):
        return sum(getattr(d, name) for d in self.days)

    @property
    def success_rate(self) -> float | None:
        succeeded, failed = self.total("succeeded"), self.total("failed")
        return succeeded / (succeeded + failed) if succeeded + failed else None


def main_currency(*, organization_ids, from_day: dt.date, to_day: dt.date) -> dict[uuid.UUID, str]:
    """``{organization id: the currency with most revenue plus failed revenue from_day..to_day}``."""
    best: dict = {}
    rows = (
        RevenueMetric.objects.filter(organization_id__in=organization_ids, day__range=(from_day, to_day))
        .exclude(currency=NO_CURRENCY)
        .values("organization_id", "currency")
        .annotate(amount=Sum("revenue") + Sum("failed_revenue"))
        .order_by("organization_id", "-amount")
    )
    for row in rows:
        best.setdefault(row["organization_id"], row["currency"])
    return best


def revenue_health(*, organization, today: dt.date, days: int = 14) -> RevenueHealth:
    """The organization's ``days`` local days up to ``today`` from ``revenue_metrics`` (two queries)."""
    window = days_back(today, days)
    currency = main_currency(organization_ids=[organization.id], from_day=window[0], to_day=today).get(
        organization.id, ""
    )
    by_day = {d: RevenueDay(d) for d in window}
    for m in RevenueMetric.objects.filter(organization=organization, day__range=(window[0], today)):
        row = by_day[m.day]
        row.bookings += m.bookings
        row.succeeded += m.payments_succeeded
        row.failed += m.payments_failed
        if m.currency == currency:
            row.revenue += m.revenue
            row.failed_revenue += m.failed_revenue
    return RevenueHealth(days=[by_day[d] for d in window], currency=currency)


@dataclass
class FunnelSummary:
    """A funnel over a period: per step ``(event_type, actors, conversion from the first step, from the
    previous step)``, and the daily overall conversion (last step / first step) ``trend`` [(day, 0..1|None)]."""

    funnel: ConversionFunnel
    steps: list[tuple[str, int, float | None, float | None]]
    trend: list[tuple[dt.date, float | None]] = field(default_factory=list)

    @property
    def overall(self) -> float | None:
        return self.steps[-1][2] if self.steps else None


def funnel_summaries(*, organization, from_day: dt.date, to_day: dt.date) -> list[FunnelSummary]:
    """Every funnel of the organization over ``from_day``..``to_day`` (two queries): clients per step summed
    over the days, and each day's overall conversion."""
    funnels = list(ConversionFunnel.objects.filter(organization=organization).order_by("name"))
    rows = ConversionFunnelStep.objects.filter(organization=organization, day__range=(from_day, to_day)).values(
        "funnel_id", "day", "step", "actors"
    )
    per_step: dict = defaultdict(lambda: defaultdict(int))
    per_day: dict = defaultdict(dict)
    for r in rows:
        per_step[r["funnel_id"]][r["step"]] += r["actors"]
        per_day[r["funnel_id"]].setdefault(r["day"], {})[r["step"]] = r["actors"]
    result = []
    for f in funnels:
        counts = [per_step[f.pk].get(i, 0) for i in range(len(f.steps))]
        first = counts[0] if counts else 0
        steps = [
            (
                event_type,
                n,
                (n / first) if first else None,
                (n / counts[i - 1]) if i and counts[i - 1] else (1.0 if i == 0 and first else None),
            )
            for i, (event_type, n) in enumerate(zip(f.steps, counts, strict=True))
        ]
        trend = []
        day = from_day
        while day <= to_day:
            steps_of_day = per_day[f.pk].get(day, {})
            start, end = steps_of_day.get(0, 0), steps_of_day.get(len(f.steps) - 1, 0)
            trend.append((day, end / start if start else None))
            day += dt.timedelta(days=1)
        result.append(FunnelSummary(f, steps, trend))
    return result


def segment_counts(*, organization, today: dt.date, days: int = 14) -> list[tuple[UserSegment, int | None, list]]:
    """``[(segment, members today or None, [(day, members)] over ``days``)]`` (two queries)."""
    segments = list(UserSegment.objects.filter(organization=organization).order_by("name"))
    window = days_back(today, days)
    counts: dict = defaultdict(dict)
    for c in UserSegmentCount.objects.filter(organization=organization, day__range=(window[0], today)):
        counts[c.segment_id][c.day] = c.members
    return [(s, counts[s.pk].get(today), [(d, counts[s.pk].get(d)) for d in window]) for s in segments]


def feature_usage_top(*, organization, from_day: dt.date, to_day: dt.date, limit: int = 10) -> list[dict]:
    """The organization's features by events over the period: ``{feature, events, peak_active_users}``."""
    return [
        dict(row)
        for row in FeatureUsage.objects.filter(organization=organization, day__range=(from_day, to_day))
        .values("feature")
        .annotate(events=Sum("events"), peak_active_users=Max("active_users"))
        .order_by("-events", "feature")[:limit]
    ]


def active_organizations_per_feature(*, from_day: dt.date, to_day: dt.date, limit: int = 8) -> list[dict]:
    """Across organizations (staff): per feature, distinct organizations active over the period, users on
    the busiest day summed, events. One query."""
    return [
        dict(row)
        for row in FeatureUsage.objects.filter(day__range=(from_day, to_day))
        .values("feature")
        .annotate(
            organizations=Count("organization_id", distinct=True),
            events=Sum("events"),
            active_users=Sum("active_users"),
        )
        .order_by("-organizations", "-events")[:limit]
    ]


@dataclass
class OrganizationBusinessRow:
    """One organization on the staff overview: totals over the period and its main currency."""

    organization_id: uuid.UUID
    bookings: int = 0
    succeeded: int = 0
    failed: int = 0
    revenue: Decimal = Decimal(0)
    failed_revenue: Decimal = Decimal(0)
    currency: str = ""
    events: int = 0

    @property
    def success_rate(self) -> float | None:
        total = self.succeeded + self.failed
        return self.succeeded / total if total else None


def organizations_overview(*, from_day: dt.date, to_day: dt.date) -> list[OrganizationBusinessRow]:
    """Every organization with business in the period (staff: RLS shows all), worst payment success rate
    first. Three queries."""
    rows: dict = {}
    metrics = list(
        RevenueMetric.objects.filter(day__range=(from_day, to_day))
        .values("organization_id", "currency")
        .annotate(
            bookings=Sum("bookings"),
            succeeded=Sum("payments_succeeded"),
            failed=Sum("payments_failed"),
            revenue=Sum("revenue"),
            failed_revenue=Sum("failed_revenue"),
        )
    )
    currencies = main_currency(
        organization_ids={m["organization_id"] for m in metrics}, from_day=from_day, to_day=to_day
    )
    for m in metrics:
        row = rows.setdefault(
            m["organization_id"],
            OrganizationBusinessRow(m["organization_id"], currency=currencies.get(m["organization_id"], "")),
        )
        row.bookings += m["bookings"]
        row.succeeded += m["succeeded"]
        row.failed += m["failed"]
        if m["currency"] == row.currency:
            row.revenue += m["revenue"]
            row.failed_revenue += m["failed_revenue"]
    for u in (
        FeatureUsage.objects.filter(day__range=(from_day, to_day))
        .values("organization_id")
        .annotate(events=Sum("events"))
    ):
        rows.setdefault(u["organization_id"], OrganizationBusinessRow(u["organization_id"])).events = u["events"]
    return sorted(rows.values(), key=lambda r: (r.success_rate if r.success_rate is not None else 2, -r.events))
