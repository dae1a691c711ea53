"""Business API URLs, included under ``/api/v1/``."""

from django.urls import path

from . import views

urlpatterns = [path("business-events/", views.BusinessEventIngestView.as_view(), name="business-events-ingest")]
