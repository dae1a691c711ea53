"""The database health page for operations staff (``/ops/db/``) and its JSON twin
(``GET /api/monitoring/performance``)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from wedsync_ops.charts import Series, line_chart
from wedsync_ops.tenancy.access import staff_required
from wedsync_ops.tenancy.context import ROLE_STAFF, current_tenant_context

from . import conf, selectors

# Status -> badge class and shape (portal.css: a status is never told by colour alone).
STATUS_BADGES = {
    "ok": {"css": "badge--ok", "shape": "✓"},
    "warning": {"css": "badge--warn", "shape": "▲"},
    "critical": {"css": "badge--bad", "shape": "✖"},
    "unknown": {"css": "badge--info", "shape": "●"},
}


def health_report(*, limit: int = 50) -> dict:
    """Everything the page and the API show, read in the caller's (staff) context.

    Shape: ``{"summary": dict (selectors.database_summary), "slow_queries", "connections",
    "table_health", "rls_status": lists of the four views' rows (at most ``limit`` for the
    limited ones), "checks": {"long_running_queries", "blocked_queries", "unused_indexes",
    "duplicate_indexes", "missing_index_candidates", "table_bloat", "index_bloat",
    "xid_wraparound", "sequences", "replication": lists, "cache_hit_ratios",
    "stats_info": dicts}, "findings": [Finding as dict], "thresholds": {name: value}}``
    (row shapes: the selectors of the same names).
    """
    summary = selectors.database_summary()
    return {
        "summary": summary,
        "slow_queries": selectors.slow_queries(limit=limit),
        "connections": selectors.connections(),
        "table_health": selectors.table_health(limit=limit),
        "rls_status": selectors.rls_status(),
        "checks": {
            "long_running_queries": selectors.long_running_queries(),
            "blocked_queries": selectors.blocked_queries(),
            "cache_hit_ratios": selectors.cache_hit_ratios(),
            "unused_indexes": selectors.unused_indexes(limit=limit),
            "duplicate_indexes": selectors.duplicate_indexes(),
            "missing_index_candidates": selectors.missing_index_candidates(),
            "table_bloat": selectors.table_bloat(limit=10),
            "index_bloat": selectors.index_bloat(limit=10),
            "xid_wraparound": selectors.xid_wraparound(limit=5),
            "sequences": selectors.sequence_usage(limit=10),
            "replication": selectors.replication(),
            "stats_info": selectors.stats_info(),
        },
        "findings": [dataclasses.asdict(f) for f in selectors.findings(summary=summary)],
        "thresholds": {name: getattr(conf, name) for name in dir(conf) if name.isupper()},
    }


def trend_charts(*, now: dt.datetime) -> dict:
    """The history charts (safe SVG) and top statements of the last ``conf.TREND_HOURS`` hours."""
    trends = selectors.snapshot_trends(now=now)
    points = trends["points"]
    times = [p["taken_at"] for p in points]

    def col(name, scale=1.0):
        return [None if p[name] is None else p[name] * scale for p in points]

    charts = [
        line_chart(title="Connections", times=times, chart_id="chart-connections", series=[
            Series("used", col("connections_used")), Series("active", col("connections_active")),
            Series("idle in transaction", col("connections_idle_in_transaction")),
            Series("waiting on a lock", col("connections_waiting")),
        ]),
        line_chart(title="Statement time per minute (ms, pg_stat_statements deltas)", times=times, unit="ms",
                   chart_id="chart-statement-time", series=[Series("total ms", col("statement_total_ms"))]),
        line_chart(title="Statement calls per minute", times=times, chart_id="chart-statement-calls",
                   series=[Series("calls", col("statement_calls"))]),
        line_chart(title="Buffer-cache hit ratio per minute", times=times, unit="%", chart_id="chart-cache-hit",
                   zero_based=False, series=[Series("hit %", col("cache_hit_ratio", 100.0))]),
        line_chart(title="Dead tuples (all user tables)", times=times, chart_id="chart-dead-tuples",
                   series=[Series("dead tuples", col("dead_tuples"))]),
    ]
    return {"charts": charts, "points": len(points), "top_statements": trends["top_statements"]}


@staff_required
def database_page(request: HttpRequest) -> HttpResponse:
    """``GET /ops/db/``: summary, findings, slow queries, activity, connections, tables, indexes,
    maintenance, RLS, history charts and Django migrations.

    Staff only (``staff_required``): anonymous -> 302 to the login page,
    logged-in non-staff -> 404. Reads run in the request's staff context.
    """
    report = health_report()
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


class IsPlatformStaff(permissions.BasePermission):
    """Authenticated staff in a staff context; other authenticated users get 404 (the endpoint
    does not exist for them), anonymous ones DRF's 401/403."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not (user.is_active and user.is_staff and current_tenant_context().role == ROLE_STAFF):
            raise NotFound()
        return True


class PerformanceView(APIView):
    """``GET /api/monitoring/performance``: ``health_report()`` as JSON (staff only)."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="rows of the limited lists, 1..1000 (default 50)")],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        description="Staff only: database summary, the four monitoring views, checks, findings and thresholds.",
    )
    def get(self, request):
        """200 ``health_report(limit=…)``; ``?limit=`` 1..1000 (default 50), else 400 naming ``limit``."""
        raw = request.query_params.get("limit", "50")
        try:
            limit = int(raw)
            if not 1 <= limit <= selectors.MAX_LIMIT:
                raise ValueError
        except ValueError:
            return Response({"limit": [f"must be an integer from 1 to {selectors.MAX_LIMIT}"]}, status=400)
        return Response(health_report(limit=limit))
