"""Server-rendered pages: home, the operations Saturday dashboard, an organization's status page.

Views hold no logic: access goes through ``wedsync_ops.tenancy.access``, data
through ``wedsync_ops.pages.selectors``, each read with one ``now``.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from wedsync_ops.tenancy.access import (
    get_organization_for_user,
    home_organization_slug,
    is_staff_request,
    staff_required,
)

from . import selectors

#: Seconds between automatic reloads of the dashboards.
REFRESH_SECONDS = 30


def home(request: HttpRequest) -> HttpResponse:
    """``/``: staff -> /ops/saturday/, a vendor -> /org/<their slug>/, anonymous -> login.

    A logged-in user without an organization gets a page saying so (403).
    """
    if not request.user.is_authenticated:
        return redirect("login")
    if is_staff_request(request):
        return redirect("ops-saturday")
    slug = home_organization_slug(request)
    if slug:
        return redirect("org-home", slug=slug)
    return render(request, "pages/no_organization.html", status=403)


@staff_required
def saturday(request: HttpRequest) -> HttpResponse:
    """``/ops/saturday/`` (staff only): weddings today, wedding-day mode, incidents, alerts, p95, database.

    ``?wall=1`` lays it out for a wall screen (large type, two columns, no
    navigation); ``?refresh=N`` sets the in-place refresh period (s).
    """
    dashboard = selectors.saturday_dashboard(now=timezone.now())
    return render(
        request,
        "pages/saturday.html",
        {
            "d": dashboard,
            "refresh_seconds": _refresh_seconds(request),
            "slow_ms": selectors.SLOW_P95_MS,
            "wall": request.GET.get("wall") == "1",
        },
    )


def _refresh_seconds(request: HttpRequest) -> int:
    """The live-refresh period (s): ``?refresh=N`` for a wall screen or a test, 2 to 300, else 30."""
    try:
        return min(300, max(2, int(request.GET.get("refresh", REFRESH_SECONDS))))
    except ValueError:
        return REFRESH_SECONDS


@login_required
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    """``/org/<slug>/`` (that organization's users, or staff): its status page; anyone else 404."""
    org = get_organization_for_user(request, slug)
    page = selectors.organization_page(organization=org, now=timezone.now())
    return render(
        request,
        "pages/organization.html",
        {"p": page, "refresh_seconds": REFRESH_SECONDS, "upcoming_days": selectors.UPCOMING_WEDDING_DAYS},
    )
