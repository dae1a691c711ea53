"""Pages of the apm app: the portal's Prometheus endpoint and the organization APM pages."""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from . import conf


def metrics_registry():
    """The registry ``/metrics`` exposes: under gunicorn (``PROMETHEUS_MULTIPROC_DIR`` set, ``gunicorn.conf.py``)
    one that sums every worker process's files (prometheus-client multiprocess mode), else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@require_GET
def prometheus_metrics(request):
    """``GET /metrics``: the portal's own metrics in the Prometheus text format (prometheus_client).

    Needs ``Authorization: Bearer <APM_METRICS_TOKEN>`` (401 otherwise). With no
    token configured it answers 403, except with ``DEBUG=true`` and
    ``APM_METRICS_TOKEN`` set explicitly empty (open, for local use). Under
    gunicorn the figures are the sum over its worker processes.
    """
    token = conf.APM_METRICS_TOKEN
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = "Bearer"
            return response
    elif not (token == "" and settings.DEBUG):
        return HttpResponse(
            "metrics are closed: set APM_METRICS_TOKEN (or, with DEBUG=true, set it empty)\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


# --- organization APM pages -----------------------------------------------------------------

import json  # noqa: E402

from django.core.exceptions import PermissionDenied, ValidationError  # noqa: E402
from django.http import Http404  # noqa: E402
from django.shortcuts import redirect, render  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.safestring import mark_safe  # noqa: E402

from wedsync_ops.charts import series_chart  # noqa: E402
from wedsync_ops.tenancy.access import get_organization_for_user, is_staff_request  # noqa: E402
from wedsync_ops.validation import InputError, json_loads  # noqa: E402

from . import selectors  # noqa: E402
from .models import ApmDashboard, ServiceHealthCheck  # noqa: E402
from .performance_pages import performance_context  # noqa: E402
from .services import DASHBOARD_AGGREGATIONS, DASHBOARD_CHARTS, DASHBOARD_WINDOWS, dashboard_save  # noqa: E402


def _login_or_404(request):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return None


def can_edit_dashboards(request, organization) -> bool:
    """Staff, or an owner/admin of ``organization``."""
    if is_staff_request(request):
        return True
    from wedsync_ops.tenancy.models import UserProfile

    return UserProfile.objects.filter(
        user_id=request.user.pk, organization=organization, role__in=[UserProfile.Role.OWNER, UserProfile.Role.ADMIN]
    ).exists()


def _get_dashboard(request, organization, pk: int) -> ApmDashboard:
    """The organization's dashboard ``pk`` or 404 (another organization's dashboard answers 404 too)."""
    dashboard = ApmDashboard.objects.filter(organization=organization, pk=pk).first()
    if dashboard is None:
        raise Http404("No such dashboard")
    return dashboard


def org_apm(request, slug):
    """``/org/<slug>/apm/``: the organization's services (latest p95), errors, health checks and dashboards."""
    if (login := _login_or_404(request)) is not None:
        return login
    org = get_organization_for_user(request, slug)
    now = timezone.now()
    checks = list(ServiceHealthCheck.objects.filter(organization=org).order_by("name"))
    uptime = selectors.health_check_uptime(check_ids=[c.pk for c in checks], now=now)
    context = {
        "org": org,
        "now": now,
        "services": selectors.latest_p95_by_service(organization_id=org.id, now=now),
        "patterns": selectors.unresolved_error_patterns(organization_id=org.id),
        "checks": [(c, uptime.get(c.pk, {})) for c in checks],
        "dashboards": list(ApmDashboard.objects.filter(organization=org).order_by("name")),
        "can_edit": can_edit_dashboards(request, org),
        # WS-259's performance tables (issue 18 §2).
        "perf": performance_context(organization_id=org.id, now=now),
    }
    return render(request, "apm/org_apm.html", context)


def dashboard_view(request, slug, pk):
    """``/org/<slug>/dashboards/<pk>/``: a saved dashboard, each widget drawn as a server-side SVG chart."""
    if (login := _login_or_404(request)) is not None:
        return login
    org = get_organization_for_user(request, slug)
    dashboard = _get_dashboard(request, org, pk)
    now = timezone.now()
    widgets = []
    for widget in dashboard.widgets:
        points = selectors.widget_series(organization_id=org.id, widget=widget, now=now)
        title = widget["title"] or f"{widget['service']} {widget['metric']} {widget['aggregation']}"
        chart = series_chart(points, kind=widget["chart"], title=f"{title}, last {widget['window']}")
        widgets.append({"widget": widget, "title": title, "points": points, "svg": mark_safe(chart)})  # noqa: S308
    return render(
        request,
        "apm/dashboard.html",
        {
            "org": org,
            "dashboard": dashboard,
            "widgets": widgets,
            "now": now,
            "can_edit": can_edit_dashboards(request, org),
        },
    )


def dashboard_edit(request, slug, pk=None):
    """``/org/<slug>/dashboards/new/`` and ``…/<pk>/edit/``: org owners/admins and staff (403 for others).

    POST ``name`` and ``widgets`` (a JSON list, see ``apm.models.ApmDashboard``);
    invalid input answers 400 with the form and the reasons, field by field.
    """
    if (login := _login_or_404(request)) is not None:
        return login
    org = get_organization_for_user(request, slug)
    dashboard = _get_dashboard(request, org, pk) if pk is not None else None
    if not can_edit_dashboards(request, org):
        raise PermissionDenied("Only the organization's admins and staff edit dashboards")
    errors: dict = {}
    name = dashboard.name if dashboard else ""
    widgets_text = json.dumps(dashboard.widgets if dashboard else [], indent=2)
    if request.method == "POST":
        name, widgets_text = request.POST.get("name", ""), request.POST.get("widgets", "")
        try:
            widgets = json_loads(widgets_text or "[]", field="widgets")
        except InputError as exc:
            errors = {exc.field: [exc.reason]}
        else:
            try:
                saved = dashboard_save(
                    organization=org, name=name, widgets=widgets, by=request.user, dashboard=dashboard
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                return redirect("apm-dashboard", slug=org.slug, pk=saved.pk)
    return render(
        request,
        "apm/dashboard_edit.html",
        {
            "org": org,
            "dashboard": dashboard,
            "name": name,
            "widgets_text": widgets_text,
            "errors": errors,
            "aggregations": DASHBOARD_AGGREGATIONS,
            "windows": list(DASHBOARD_WINDOWS),
            "charts": DASHBOARD_CHARTS,
        },
        status=400 if errors else 200,
    )
