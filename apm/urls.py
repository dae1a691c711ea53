"""APM API URLs, included under ``/api/v1/``."""

from django.urls import path

from . import views

urlpatterns = [
    path("metrics/", views.MetricIngestView.as_view(), name="metrics-ingest"),
    path("errors/", views.ErrorIngestView.as_view(), name="errors-ingest"),
    path("web-vitals/", views.WebVitalsIngestView.as_view(), name="web-vitals-ingest"),
]
