"""Who may see which page: every organization lookup of the pages goes through here.

Another organization's slug answers 404, exactly like an unknown slug, so a
slug leaks nothing (docs/design/architecture.md, "Access"). Staff pages answer 404 to logged-in
non-staff users for the same reason; anonymous visitors are sent to the
login page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from wedsync_ops.tenancy.context import NO_CONTEXT, ROLE_STAFF, ROLE_VENDOR, TenantContext
from wedsync_ops.tenancy.models import Organization


def request_tenant(request: HttpRequest) -> TenantContext:
    """The TenantContext that TenantContextMiddleware set on ``request`` (NO_CONTEXT if none)."""
    return getattr(request, "tenant", NO_CONTEXT) or NO_CONTEXT


def is_staff_request(request: HttpRequest) -> bool:
    """True when the logged-in, active user is staff and the transaction runs in the staff context."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return request_tenant(request).role == ROLE_STAFF


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view for operations staff only.

    Anonymous -> 302 to ``settings.LOGIN_URL`` with ``?next=``; logged in but
    not staff -> Http404 (the page does not exist for them); staff -> the view.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_request(request):
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapper


def get_organization_for_user(request: HttpRequest, slug: str) -> Organization:
    """The Organization ``slug`` if the request's user may see it; else Http404.

    Staff: any organization. A vendor user: only their own organization
    (``request.tenant.org_id``); any other slug answers 404 exactly like an
    unknown slug. Anyone else (anonymous, logged in without an organization):
    404. The query filters explicitly and RLS filters again.
    """
    ctx = request_tenant(request)
    qs = Organization.objects.filter(slug=slug)
    if is_staff_request(request):
        pass
    elif ctx.role == ROLE_VENDOR and ctx.org_id is not None and request.user.is_authenticated:
        qs = qs.filter(id=ctx.org_id)
    else:
        raise Http404("No such organization")
    org = qs.first()
    if org is None:
        raise Http404("No such organization")
    return org


def home_organization_slug(request: HttpRequest) -> str | None:
    """The slug of the vendor user's own organization, or None (staff, no organization, anonymous)."""
    ctx = request_tenant(request)
    if ctx.role != ROLE_VENDOR or ctx.org_id is None:
        return None
    return Organization.objects.filter(id=ctx.org_id).values_list("slug", flat=True).first()


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back after a POST: the ``next`` field (or query parameter) when it is a URL of this site
    (Django's ``url_has_allowed_host_and_scheme``), else ``default``. Never an open redirect."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
