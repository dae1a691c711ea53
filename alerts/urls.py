"""API routes of the alerts app (included under ``/api/v1/``)."""

from django.urls import path

from alerts.views import AlertmanagerWebhookView

urlpatterns = [
    path("integrations/alertmanager/", AlertmanagerWebhookView.as_view(), name="integration-alertmanager"),
]
