"""URL map: admin, login, /ops/ and /org/<slug>/ pages, /api/v1/, OpenAPI schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("apm.urls")),
    path("api/v1/", include("alerts.urls")),
    path("api/v1/", include("incidents.urls")),
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
    # heartbeats: healthchecks.io-compatible ping URLs (/ping/<uuid>…) and the check and job pages.
    path("", include("heartbeats.urls")),
    path("", include("heartbeats.page_urls")),
]
