"""Pages of WS-259's performance tables (issue 18 §2): the section of the vendor APM page and ``/ops/performance/``."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from wedsync_ops.charts import bar_chart
from wedsync_ops.tenancy.access import staff_required

from . import performance

VITAL_FORMATS = (
    ("lcp_ms", "{:.0f} ms"),
    ("inp_ms", "{:.0f} ms"),
    ("cls", "{:.2f}"),
    ("fcp_ms", "{:.0f} ms"),
    ("ttfb_ms", "{:.0f} ms"),
)


def performance_context(*, organization_id, now) -> dict:
    """``performance.performance_overview`` with each vitals row's ``cells``: ``[(key, "text" | None, rating)]``."""
    perf = performance.performance_overview(organization_id=organization_id, now=now)
    for row in perf["vitals"]:
        row["cells"] = [
            (key, fmt.format(row[key]) if row[key] is not None else None, row["ratings"][key])
            for key, fmt in VITAL_FORMATS
        ]
    return perf


@staff_required
def ops_performance(request):
    """``/ops/performance/``: endpoints, web vitals and journeys of every organization, and the costliest statements."""
    from dbmonitor.selectors import top_queries

    now = timezone.now()
    queries = top_queries(now=now)
    chart = (
        bar_chart(
            title="Costliest statements, last 24 h (total ms)",
            categories=[str(q["queryid"])[-8:] for q in queries[:10]],
            series=[("total ms", [q["total_ms"] for q in queries[:10]])],
            y_label="ms",
            fmt="{:.0f}",
        )
        if queries
        else ""
    )
    return render(
        request,
        "apm/ops_performance.html",
        {
            "now": now,
            "perf": performance_context(organization_id=None, now=now),
            "queries": queries,
            "queries_chart": chart,
        },
    )
