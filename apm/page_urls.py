"""Server-rendered pages of the apm app, and the OTLP/HTTP default path, mounted at the site root."""

from django.urls import path

from . import api, performance_pages, views

urlpatterns = [
    path("metrics", views.prometheus_metrics, name="prometheus-metrics"),
    # OTLP/HTTP's default path (an exporter's endpoint http://host:port appends /v1/metrics).
    path("v1/metrics", api.OtlpMetricsDefaultPathView.as_view(), name="otlp-metrics"),
    path("org/<slug:slug>/apm/", views.org_apm, name="apm-org"),
    path("ops/performance/", performance_pages.ops_performance, name="ops-performance"),
    path("org/<slug:slug>/dashboards/new/", views.dashboard_edit, name="apm-dashboard-new"),
    path("org/<slug:slug>/dashboards/<int:pk>/", views.dashboard_view, name="apm-dashboard"),
    path("org/<slug:slug>/dashboards/<int:pk>/edit/", views.dashboard_edit, name="apm-dashboard-edit"),
]
