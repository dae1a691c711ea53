"""APM API URLs, included under ``/api/v1/``."""

from django.urls import path

from . import api

urlpatterns = [
    path("metrics/", api.MetricIngestView.as_view(), name="metrics-ingest"),
    path("errors/", api.ErrorIngestView.as_view(), name="errors-ingest"),
    path("web-vitals/", api.WebVitalsIngestView.as_view(), name="web-vitals-ingest"),
    path("otlp/v1/metrics", api.OtlpMetricsView.as_view(), name="otlp-metrics-api"),
    path("prometheus/write", api.RemoteWriteView.as_view(), name="prometheus-remote-write"),
]
