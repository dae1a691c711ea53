"""The database health page for operations staff (``/ops/db/``)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wedsync_ops.pages.access import staff_required

from . import selectors

# Status -> badge class and shape (portal.css: a status is never told by colour alone).
STATUS_BADGES = {
    "ok": {"css": "badge--ok", "shape": "✓"},
    "warning": {"css": "badge--warn", "shape": "▲"},
    "critical": {"css": "badge--bad", "shape": "✖"},
    "unknown": {"css": "badge--info", "shape": "●"},
}


@staff_required
def database_page(request: HttpRequest) -> HttpResponse:
    """``GET /ops/db/``: summary, slow queries, connections, table health and RLS status.

    Staff only (``staff_required``): anonymous -> 302 to the login page,
    logged-in non-staff -> 404. Reads run in the request's staff context.
    """
    summary = selectors.database_summary()
    return render(
        request,
        "dbmonitor/db.html",
        {
            "summary": summary,
            "status_badge": STATUS_BADGES.get(summary["status"], STATUS_BADGES["unknown"]),
            "slow_queries": selectors.slow_queries(limit=50),
            "connections": selectors.connections(),
            "tables": selectors.table_health(limit=50),
            "rls": selectors.rls_status(),
        },
    )
