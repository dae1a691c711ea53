"""URL map: admin, login, /ops/ and /org/<slug>/ pages, /status/<slug>/, /api/v1/, OpenAPI schema and docs."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView


def _docs(view):
    """The API docs need a login, like the schema they read, unless API_SCHEMA_PUBLIC (then anyone)."""
    return view if settings.API_SCHEMA_PUBLIC else login_required(view)


urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # API docs, offline: Swagger UI and Redoc from drf-spectacular-sidecar's static files (the split view
    # serves Swagger UI's start-up script as a file: the CSP allows no inline script).
    path(
        "api/docs/",
        _docs(SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs/swagger_ui.html")),
        name="api-docs",
    ),
    # Redoc styles itself with <style> elements (styled-components) and parses in a blob: worker: this page
    # alone may do both; scripts still come from the portal only.
    path(
        "api/redoc/",
        csp_update({"style-src": ["'self'", "'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
            _docs(SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html"))
        ),
        name="api-redoc",
    ),
    path("api/v1/", include("apm.urls")),
    path("api/v1/", include("alerts.urls")),
    path("api/v1/", include("incidents.urls")),
    path("api/v1/", include("notifications.urls")),
    path("api/v1/", include("business.urls")),
    # Alertmanager API v2 (silences, open alerts) for amtool and Grafana's Alertmanager data source.
    path("api/v2/", include("alerts.alertmanager_api_urls")),
    path("", include("dbmonitor.urls")),
    path("", include("apm.page_urls")),
    path("", include("alerts.page_urls")),
    path("", include("incidents.page_urls")),
    path("", include("dbmonitor.page_urls")),
    path("", include("business.page_urls")),
    path("", include("oncall.urls")),
    path("", include("wedsync_ops.pages.urls")),
    # Public status pages (no login): /status/<slug>/ and its Atom feed.
    path("", include("status.urls")),
    # The audit trail's History pages (/org/<slug>/history/…, /ops/history/…).
    path("", include("audit.urls")),
    # heartbeats: healthchecks.io-compatible ping URLs (/ping/<uuid>…) and the check and job pages.
    path("", include("heartbeats.urls")),
    path("", include("heartbeats.page_urls")),
]
