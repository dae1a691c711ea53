"""Server-rendered pages of the incidents app, mounted at the site root."""

from django.urls import path

from . import views

urlpatterns = [
    path("ops/incidents/", views.ops_incident_list, name="ops-incidents"),
    path("ops/incidents/reports/", views.ops_reports, name="ops-incident-reports"),
    path("ops/incidents/new/", views.ops_incident_new, name="ops-incident-new"),
    path("ops/incidents/<uuid:pk>/", views.ops_incident_detail, name="ops-incident-detail"),
    path("ops/runbooks/", views.ops_runbook_list, name="ops-runbooks"),
    path("ops/runbooks/new/", views.ops_runbook_edit, name="ops-runbook-new"),
    path("ops/runbooks/<uuid:pk>/", views.ops_runbook, name="ops-runbook"),
    path("ops/runbooks/<uuid:pk>/edit/", views.ops_runbook_edit, name="ops-runbook-edit"),
    path("org/<slug:slug>/incidents/", views.org_incident_list, name="org-incidents"),
    path("org/<slug:slug>/incidents/<uuid:pk>/", views.org_incident_detail, name="org-incident-detail"),
]
