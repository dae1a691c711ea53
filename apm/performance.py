"""WS-259's performance tables (issue 18 §2): their set-based rollups and the reads the pages share.

Written only here, each by one SQL function over ``apm_metrics`` (through the ``performance_metrics``
view), recomputing the buckets that got a point ingested in the last ``lookback``, as
``aggregate_metrics`` does for ``apm_metric_aggregations``:

- ``core_web_vitals``: ``rollup_core_web_vitals`` (``apm/sql/functions/rollup_core_web_vitals.v1.sql``);
- ``api_performance``: ``rollup_api_performance`` (``…/rollup_api_performance.v1.sql``);
- ``user_journey_performance``: ``rollup_user_journeys`` (``…/rollup_user_journeys.v1.sql``).

``database_performance`` belongs to dbmonitor (``dbmonitor.performance``). The beat runs
``apm.tasks.rollup_performance`` every minute with a 5-minute lookback (late beats do not lose
buckets; a point ingested later than that into an old bucket is rolled up when the next point of
that bucket arrives).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection
from django.db.models import Sum

from wedsync_ops.charts import Series, bar_chart, line_chart

from .models import ApiPerformance, CoreWebVitals, UserJourneyPerformance

#: Minutes of ingest each rollup pass looks back over.
ROLLUP_LOOKBACK_MINUTES = 5
WEB_VITALS = ("lcp_ms", "inp_ms", "cls", "fcp_ms", "ttfb_ms")


def performance_rollup(*, now: dt.datetime, lookback_minutes: int = ROLLUP_LOOKBACK_MINUTES) -> dict[str, int]:
    """Roll the points ingested in ``(now - lookback, now]`` into the three tables; one transaction each.

    Returns ``{"core_web_vitals": rows written, "api_performance": n, "user_journey_performance": n}``.
    Needs a staff or service context (the SQL functions raise ``insufficient_privilege`` otherwise).
    Raises ValueError for a naive ``now`` or a lookback below 1 minute.
    """
    if now.tzinfo is None:
        raise ValueError("performance_rollup needs an aware datetime")
    if lookback_minutes < 1:
        raise ValueError("lookback_minutes must be at least 1")
    lookback = dt.timedelta(minutes=lookback_minutes)
    written = {}
    for table, function in (
        ("core_web_vitals", "rollup_core_web_vitals"),
        ("api_performance", "rollup_api_performance"),
        ("user_journey_performance", "rollup_user_journeys"),
    ):
        with connection.cursor() as cur:
            cur.execute(f"SELECT {function}(%s, %s)", [now, lookback])
            written[table] = cur.fetchone()[0]
    return written


# --- reads ------------------------------------------------------------------------------------


def _scope(qs, organization_id):
    return qs if organization_id is None else qs.filter(organization_id=organization_id)


def api_endpoints(
    *, organization_id: uuid.UUID | None, now: dt.datetime, hours: int = 1, limit: int = 10
) -> list[dict]:
    """The busiest endpoints of the last ``hours``: ``[{"organization__slug", "service", "endpoint",
    "requests", "errors", "error_rate" (0..1), "worst_p95_ms", "worst_p99_ms"}]``, most requests first.

    ``organization_id`` None: every organization the caller's context sees (staff).
    """
    from django.db.models import Max

    rows = (
        _scope(ApiPerformance.objects, organization_id)
        .filter(bucket_start__gt=now - dt.timedelta(hours=hours), bucket_start__lte=now)
        .values("organization__slug", "service", "endpoint")
        .annotate(
            requests=Sum("request_count"),
            errors=Sum("error_count"),
            worst_p95_ms=Max("p95_ms"),
            worst_p99_ms=Max("p99_ms"),
        )
        .order_by("-requests", "service", "endpoint")[:limit]
    )
    return [dict(r, error_rate=(r["errors"] / r["requests"]) if r["requests"] else 0.0) for r in rows]


def api_p95_chart(*, organization_id: uuid.UUID | None, now: dt.datetime, endpoints: list[dict], minutes: int = 60):
    """An SVG line chart: p95 (ms) per minute of the (at most four) busiest ``endpoints``."""
    start = (now - dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    times = [start + dt.timedelta(minutes=i) for i in range(minutes + 1)]
    index = {t: i for i, t in enumerate(times)}
    series = []
    for e in endpoints[:4]:
        values: list[float | None] = [None] * len(times)
        qs = _scope(ApiPerformance.objects, organization_id).filter(
            service=e["service"],
            endpoint=e["endpoint"],
            organization__slug=e["organization__slug"],
            bucket_start__gte=start,
            bucket_start__lte=now,
        )
        for bucket, p95 in qs.values_list("bucket_start", "p95_ms"):
            if bucket in index:
                values[index[bucket]] = p95
        label = e["endpoint"] + (f" ({e['organization__slug'][:12]})" if organization_id is None else "")
        series.append(Series(label[:32], values))
    return line_chart(
        title=f"Endpoint p95 latency, last {minutes} min (ms)",
        times=times,
        series=series,
        unit=" ms",
        chart_id="api-p95",
    )


def web_vitals(*, organization_id: uuid.UUID | None, now: dt.datetime, hours: int = 24, limit: int = 20) -> list[dict]:
    """Per page and device class over the last ``hours``: the worst hourly p75 of each vital and its rating.

    ``[{"organization__slug", "page", "device_class", "samples", "lcp_ms", "inp_ms", "cls", "fcp_ms",
    "ttfb_ms", "ratings": {"lcp_ms": "good" | "needs-improvement" | "poor" | ""…}}]``, most samples first.
    """
    from django.db.models import CharField, Func, Max, Value

    names = {"lcp_ms": "LCP", "inp_ms": "INP", "cls": "CLS", "fcp_ms": "FCP", "ttfb_ms": "TTFB"}
    ratings = {
        f"{v}_rating": Func(Value(names[v]), Max(v), function="web_vitals_rating", output_field=CharField())
        for v in WEB_VITALS
    }
    rows = (
        _scope(CoreWebVitals.objects, organization_id)
        .filter(bucket_start__gt=now - dt.timedelta(hours=hours), bucket_start__lte=now)
        .values("organization__slug", "page", "device_class")
        .annotate(loads=Sum("samples"), **{f"{v}_worst": Max(v) for v in WEB_VITALS}, **ratings)
        .order_by("-loads", "page", "device_class")[:limit]
    )
    return [
        {
            "organization__slug": r["organization__slug"],
            "page": r["page"],
            "device_class": r["device_class"],
            "samples": r["loads"],
            **{v: r[f"{v}_worst"] for v in WEB_VITALS},
            "ratings": {v: r[f"{v}_rating"] or "" for v in WEB_VITALS},
        }
        for r in rows
    ]


def web_vitals_chart(rows: list[dict]):
    """An SVG bar chart of LCP and INP p75 (ms) per page and device (the six with most page loads)."""
    rows = rows[:6]
    return bar_chart(
        title="Largest Contentful Paint and Interaction to Next Paint, p75 (ms)",
        categories=[f"{r['page'][:14]} {r['device_class'][:7]}" for r in rows],
        series=[("LCP p75", [r["lcp_ms"] for r in rows]), ("INP p75", [r["inp_ms"] for r in rows])],
        y_label="ms",
        fmt="{:.0f}",
    )


def journeys(*, organization_id: uuid.UUID | None, now: dt.datetime, hours: int = 24) -> list[dict]:
    """Per journey over the last ``hours``: ``[{"organization__slug", "journey", "started", "completed",
    "success_rate" (0..1), "steps": the latest hour's step list (see UserJourneyPerformance), "chart"}]``."""
    rows = list(
        _scope(UserJourneyPerformance.objects, organization_id)
        .filter(bucket_start__gt=now - dt.timedelta(hours=hours), bucket_start__lte=now)
        .select_related("organization")
        .order_by("organization__slug", "journey", "-bucket_start")
    )
    grouped: dict[tuple, dict] = {}
    for r in rows:
        key = (r.organization.slug, r.journey)
        g = grouped.setdefault(
            key, {"organization__slug": key[0], "journey": r.journey, "started": 0, "completed": 0, "steps": r.steps}
        )
        g["started"] += r.journeys_started
        g["completed"] += r.journeys_completed
    out = []
    for g in grouped.values():
        g["success_rate"] = g["completed"] / g["started"] if g["started"] else None
        steps = g["steps"] or []
        g["chart"] = bar_chart(
            title=f"{g['journey']}: step duration, latest hour (ms)",
            categories=[str(s.get("step") or s.get("index")) for s in steps],
            series=[("p50", [s.get("p50_ms") for s in steps]), ("p95", [s.get("p95_ms") for s in steps])],
            y_label="ms",
            fmt="{:.0f}",
        )
        out.append(g)
    return out


def performance_overview(*, organization_id: uuid.UUID | None, now: dt.datetime) -> dict:
    """What the vendor APM page (one organization) and ``/ops/performance/`` (None: all) show.

    ``{"endpoints", "api_chart", "vitals", "vitals_chart", "journeys"}``, read in the caller's context.
    """
    endpoints = api_endpoints(organization_id=organization_id, now=now)
    vitals = web_vitals(organization_id=organization_id, now=now)
    return {
        "endpoints": endpoints,
        "api_chart": api_p95_chart(organization_id=organization_id, now=now, endpoints=endpoints),
        "vitals": vitals,
        "vitals_chart": web_vitals_chart(vitals) if vitals else "",
        "journeys": journeys(organization_id=organization_id, now=now),
    }
