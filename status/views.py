"""``/status/<slug>/``: an organization's public status page (no login), and its Atom feed (feeds.py).

Both read ``status.selectors.status_page`` (cached a minute per organization). An unknown slug
and an organization without a public page answer the same 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from wedsync_ops.charts import status_strip

from .selectors import StatusPage, status_page

NOT_FOUND = "No such status page"


def get_status_page(slug: str) -> StatusPage:
    """The public page of ``slug``, or Http404 (same message for unknown and not public)."""
    page = status_page(slug, now=timezone.now())
    if page is None:
        raise Http404(NOT_FOUND)
    return page


@require_GET
def public_status(request: HttpRequest, slug: str) -> HttpResponse:
    """The status page: overall state, services with their 90-day strips, incidents, maintenance."""
    page = get_status_page(slug)
    strips = {
        service.id: status_strip(
            title=f"{service.name}, last 90 days",
            cells=[(f"{d.day:%a %-d %b %Y}", d.state, f"{d.percent:.2f}% up" if d.percent is not None else "")
                   for d in service.days],
            chart_id=f"uptime-{service.id}", cell_w=6, height=28,
        )
        for service in page.services
    }
    response = render(request, "status/page.html", {
        "page": page,
        "services": [(service, strips[service.id]) for service in page.services],
        "feed_url": f"/status/{page.slug}/feed.atom",
    })
    response["Cache-Control"] = "max-age=60"
    return response
