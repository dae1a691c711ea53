"""Business pages: ``/org/<slug>/business/`` (a vendor's funnels, revenue health, segments, features and
business right now) and ``/ops/business/`` (staff: every organization). Charts are server-rendered SVG."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils import timezone

from wedsync_ops.charts import bar_chart
from wedsync_ops.tenancy.access import get_organization_for_user, staff_required
from wedsync_ops.tenancy.models import Organization

from . import selectors
from .impact import IMPACT_WINDOW, event_label, money, organization_impact

REVENUE_DAYS = 14
FUNNEL_DAYS = 7


def _day_label(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _revenue_charts(health: selectors.RevenueHealth) -> dict:
    labels = [_day_label(d.day) for d in health.days]
    charts = {
        "bookings": bar_chart(
            title=f"Bookings and payments per day, last {len(labels)} days",
            categories=labels,
            series=[
                ("bookings", [d.bookings for d in health.days]),
                ("payments succeeded", [d.succeeded for d in health.days]),
                ("payments failed", [d.failed for d in health.days]),
            ],
            y_label="events",
        ),
        "success": bar_chart(
            title="Payment success rate per day",
            categories=labels,
            series=[
                (
                    "success rate",
                    [None if d.success_rate is None else round(100 * d.success_rate, 1) for d in health.days],
                )
            ],
            y_label="% of payments",
            fmt="{:.0f}%",
        ),
    }
    if health.currency:
        charts["money"] = bar_chart(
            title=f"Revenue and failed-payment revenue per day ({health.currency})",
            categories=labels,
            series=[
                ("revenue", [float(d.revenue) for d in health.days]),
                ("failed-payment revenue", [float(d.failed_revenue) for d in health.days]),
            ],
            y_label=health.currency,
            fmt="{:,.0f}",
        )
    return charts


def _funnel_chart(summary: selectors.FunnelSummary):
    return bar_chart(
        title=f"{summary.funnel.name}: clients per step, last {FUNNEL_DAYS} days",
        categories=[event_label(s[0]) for s in summary.steps],
        series=[("clients", [s[1] for s in summary.steps])],
        y_label="clients",
    )


def org_business(request, slug):
    """``/org/<slug>/business/``: the organization's business health (another organization's slug: 404)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    org = get_organization_for_user(request, slug)
    now = timezone.now()
    today = selectors.local_today(org, now)
    health = selectors.revenue_health(organization=org, today=today, days=REVENUE_DAYS)
    funnels = selectors.funnel_summaries(
        organization=org, from_day=today - dt.timedelta(days=FUNNEL_DAYS - 1), to_day=today
    )
    context = {
        "org": org,
        "now": now,
        "today": today,
        "health": health,
        "charts": _revenue_charts(health),
        "totals": {"bookings": health.total("bookings"), "failed": health.total("failed")},
        "failed_revenue": money(health.total("failed_revenue"), health.currency) if health.currency else "",
        "revenue": money(health.total("revenue"), health.currency) if health.currency else "",
        "funnels": [(f, _funnel_chart(f), [(event_label(s[0]), *s[1:]) for s in f.steps]) for f in funnels],
        "segments": selectors.segment_counts(organization=org, today=today),
        "features": selectors.feature_usage_top(organization=org, from_day=today - dt.timedelta(days=6), to_day=today),
        "impact": organization_impact(organization_id=org.id, start=now - IMPACT_WINDOW, end=now),
        "revenue_days": REVENUE_DAYS,
        "funnel_days": FUNNEL_DAYS,
    }
    return render(request, "business/org_business.html", context)


@staff_required
def ops_business(request):
    """``/ops/business/``: every organization's bookings, payments and failed revenue over 7 UTC days, and
    the daily active organizations per feature (staff only; others 404)."""
    now = timezone.now()
    today = now.astimezone(dt.UTC).date()
    start = today - dt.timedelta(days=6)
    rows = selectors.organizations_overview(from_day=start, to_day=today)
    orgs = Organization.objects.in_bulk([r.organization_id for r in rows])
    table = [
        (
            orgs.get(r.organization_id),
            r,
            money(r.revenue, r.currency) if r.currency else "–",
            money(r.failed_revenue, r.currency) if r.currency else "–",
        )
        for r in rows
    ]
    features = selectors.active_organizations_per_feature(from_day=start, to_day=today)
    chart = bar_chart(
        title="Active organizations per feature, last 7 days",
        categories=[f["feature"].replace("_", " ")[:14] for f in features],
        series=[("organizations", [f["organizations"] for f in features])],
        y_label="organizations",
    )
    return render(
        request,
        "business/ops_business.html",
        {"now": now, "start": start, "today": today, "table": table, "features": features, "chart": chart},
    )
