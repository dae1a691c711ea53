"""Server-rendered pages of the alerts app, mounted at the site root."""

from django.urls import path

from alerts.pages import organization_rules

urlpatterns = [
    path("org/<slug:slug>/alerts/rules/", organization_rules, name="alerts-org-rules"),
    path("org/<slug:slug>/alerts/rules/<uuid:rule_id>/", organization_rules, name="alerts-org-rule-edit"),
]
