"""Business API URLs, included under ``/api/v1/``."""

from django.urls import path

from . import api

urlpatterns = [path("business-events/", api.BusinessEventIngestView.as_view(), name="business-events-ingest")]
