"""The database health page for operations staff (``/ops/db/``) and its JSON twin
(``GET /api/monitoring/performance``)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wedsync_ops.charts import Series, line_chart
from wedsync_ops.tenancy.access import staff_required

from . import conf, selectors

# Status -> badge class and shape (portal.css: a status is never told by colour alone).
STATUS_BADGES = {
    "ok": {"css": "badge--ok", "shape": "✓"},
    "warning": {"css": "badge--warn", "shape": "▲"},
    "critical": {"css": "badge--bad", "shape": "✖"},
    "unknown": {"css": "badge--info", "shape": "●"},
}


def trend_charts(*, now: dt.datetime) -> dict:
    """The history charts (safe SVG) and top statements of the last ``conf.TREND_HOURS`` hours."""
    trends = selectors.snapshot_trends(now=now)
    points = trends["points"]
    times = [p["taken_at"] for p in points]

    def col(name, scale=1.0):
        return [None if p[name] is None else p[name] * scale for p in points]

    charts = [
        line_chart(
            title="Connections",
            times=times,
            chart_id="chart-connections",
            series=[
                Series("used", col("connections_used")),
                Series("active", col("connections_active")),
                Series("idle in transaction", col("connections_idle_in_transaction")),
                Series("waiting on a lock", col("connections_waiting")),
            ],
        ),
        line_chart(
            title="Statement time per minute (ms, pg_stat_statements deltas)",
            times=times,
            unit="ms",
            chart_id="chart-statement-time",
            series=[Series("total ms", col("statement_total_ms"))],
        ),
        line_chart(
            title="Statement calls per minute",
            times=times,
            chart_id="chart-statement-calls",
            series=[Series("calls", col("statement_calls"))],
        ),
        line_chart(
            title="Buffer-cache hit ratio per minute",
            times=times,
            unit="%",
            chart_id="chart-cache-hit",
            zero_based=False,
            series=[Series("hit %", col("cache_hit_ratio", 100.0))],
        ),
        line_chart(
            title="Dead tuples (all user tables)",
            times=times,
            chart_id="chart-dead-tuples",
            series=[Series("dead tuples", col("dead_tuples"))],
        ),
    ]
    return {"charts": charts, "points": len(points), "top_statements": trends["top_statements"]}


@staff_required
def database_page(request: HttpRequest) -> HttpResponse:
    """``GET /ops/db/``: summary, findings, slow queries, activity, connections, tables, indexes,
    maintenance, RLS, history charts and Django migrations.

    Staff only (``staff_required``): anonymous -> 302 to the login page,
    logged-in non-staff -> 404. Reads run in the request's staff context.
    """
    report = selectors.health_report()
    summary = report["summary"]
    migrations = selectors.migrations_status()
    return render(
        request,
        "dbmonitor/db.html",
        {
            **report,
            "status_badge": STATUS_BADGES.get(summary["status"], STATUS_BADGES["unknown"]),
            "tables": report["table_health"],
            "rls": report["rls_status"],
            "trends": trend_charts(now=timezone.now()),
            "migrations_applied": [m for m in migrations if m["applied"]],
            "migrations_pending": [m for m in migrations if not m["applied"]],
            "conf": conf,
        },
    )
