"""Server-rendered pages of the alerts app, mounted at the site root."""

from django.urls import path

from alerts import ops_pages, silence_pages
from alerts.views import organization_channels, organization_rules, organization_silences

urlpatterns = [
    path("ops/alerts/", ops_pages.ops_alert_list, name="ops-alerts"),
    path("ops/alerts/<uuid:pk>/", ops_pages.ops_alert_detail, name="ops-alert-detail"),
    path("ops/silences/", silence_pages.ops_silences, name="ops-silences"),
    path("ops/silences/new/", silence_pages.ops_rule_new, {"kind": "silence"}, name="ops-silence-new"),
    path("ops/silences/preview.json", silence_pages.ops_silence_preview, name="ops-silence-preview"),
    path("ops/maintenance/new/", silence_pages.ops_rule_new, {"kind": "maintenance"}, name="ops-maintenance-new"),
    path("ops/inhibitions/new/", silence_pages.ops_rule_new, {"kind": "inhibition"}, name="ops-inhibition-new"),
    path("org/<slug:slug>/alerts/", ops_pages.org_alert_list, name="org-alerts"),
    path("org/<slug:slug>/alerts/<uuid:pk>/", ops_pages.org_alert_detail, name="org-alert-detail"),
    path("org/<slug:slug>/alerts/rules/", organization_rules, name="alerts-org-rules"),
    path("org/<slug:slug>/alerts/rules/<uuid:rule_id>/", organization_rules, name="alerts-org-rule-edit"),
    path("org/<slug:slug>/alerts/silences/", organization_silences, name="alerts-org-silences"),
    path("org/<slug:slug>/alerts/silences/new/", silence_pages.org_silence_new, name="alerts-org-silence-new"),
    path(
        "org/<slug:slug>/alerts/maintenance/new/",
        silence_pages.org_silence_new,
        {"kind": "maintenance"},
        name="alerts-org-maintenance-new",
    ),
    path(
        "org/<slug:slug>/alerts/inhibitions/new/",
        silence_pages.org_silence_new,
        {"kind": "inhibition"},
        name="alerts-org-inhibition-new",
    ),
    path(
        "org/<slug:slug>/alerts/silences/preview.json",
        silence_pages.org_silence_preview,
        name="alerts-org-silence-preview",
    ),
    path("org/<slug:slug>/alerts/channels/", organization_channels, name="alerts-org-channels"),
]
