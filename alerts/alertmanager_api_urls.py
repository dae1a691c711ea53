"""Routes of the Alertmanager-compatible API v2 (included under ``/api/v2/``)."""

from django.urls import path

from alerts.alertmanager_api import AlertGroupsView, AlertsView, SilencesView, SilenceView, StatusView

urlpatterns = [
    path("status", StatusView.as_view(), name="am-v2-status"),
    path("silences", SilencesView.as_view(), name="am-v2-silences"),
    path("silence/<str:silence_id>", SilenceView.as_view(), name="am-v2-silence"),
    path("alerts", AlertsView.as_view(), name="am-v2-alerts"),
    path("alerts/groups", AlertGroupsView.as_view(), name="am-v2-alert-groups"),
]
