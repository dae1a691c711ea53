"""``/status/<slug>/``: an organization's public status page (no login), and its Atom feed (feeds.py).

Both read ``status.selectors.status_page`` (cached a minute per organization). An unknown slug
and an organization without a public page answer the same 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

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
    response = render(
        request,
        "status/page.html",
        {
            "page": page,
            # The strips were rendered (escaped, by wedsync_ops.charts.status_strip) when the page was built.
            "services": [(service, mark_safe(service.strip)) for service in page.services],  # noqa: S308
            "feed_url": f"/status/{page.slug}/feed.atom",
        },
    )
    response["Cache-Control"] = "max-age=60"
    return response
