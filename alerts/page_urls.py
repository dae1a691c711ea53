"""Server-rendered pages of the alerts app, mounted at the site root."""

from django.urls import path

from alerts.views import organization_channels, organization_rules, organization_silences

urlpatterns = [
    path("org/<slug:slug>/alerts/rules/", organization_rules, name="alerts-org-rules"),
    path("org/<slug:slug>/alerts/rules/<uuid:rule_id>/", organization_rules, name="alerts-org-rule-edit"),
    path("org/<slug:slug>/alerts/silences/", organization_silences, name="alerts-org-silences"),
    path("org/<slug:slug>/alerts/channels/", organization_channels, name="alerts-org-channels"),
]
