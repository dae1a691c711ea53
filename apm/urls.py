"""APM API URLs, included under ``/api/v1/``."""

from django.urls import path

from . import ingest_views, views

urlpatterns = [
    path("metrics/", views.MetricIngestView.as_view(), name="metrics-ingest"),
    path("errors/", views.ErrorIngestView.as_view(), name="errors-ingest"),
    path("web-vitals/", views.WebVitalsIngestView.as_view(), name="web-vitals-ingest"),
    path("otlp/v1/metrics", ingest_views.OtlpMetricsView.as_view(), name="otlp-metrics-api"),
    path("prometheus/write", ingest_views.RemoteWriteView.as_view(), name="prometheus-remote-write"),
]
