"""API routes of the alerts app (included under ``/api/v1/``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts.api import AlertRuleViewSet
from alerts.integrations.views import (
    AlertmanagerWebhookView,
    GenericWebhookView,
    GrafanaWebhookView,
    PagerDutyEventsView,
)

router = SimpleRouter()
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")

urlpatterns = [
    path("integrations/alertmanager/", AlertmanagerWebhookView.as_view(), name="integration-alertmanager"),
    path("integrations/grafana/", GrafanaWebhookView.as_view(), name="integration-grafana"),
    path("integrations/pagerduty/", PagerDutyEventsView.as_view(), name="integration-pagerduty"),
    path("integrations/pagerduty/v2/enqueue", PagerDutyEventsView.as_view(), name="integration-pagerduty-enqueue"),
    path("integrations/webhook/", GenericWebhookView.as_view(), name="integration-webhook"),
    *router.urls,
]
