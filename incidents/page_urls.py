"""Server-rendered pages of the incidents app, mounted at the site root."""

from django.urls import path

from . import views

urlpatterns = [
    path("ops/incidents/", views.ops_incident_list, name="ops-incidents"),
    path("ops/incidents/reports/", views.ops_reports, name="ops-incident-reports"),
    path("ops/incidents/<uuid:pk>/", views.ops_incident_detail, name="ops-incident-detail"),
    path("ops/runbooks/<uuid:pk>/", views.ops_runbook, name="ops-runbook"),
    path("org/<slug:slug>/incidents/", views.org_incident_list, name="org-incidents"),
    path("org/<slug:slug>/incidents/<uuid:pk>/", views.org_incident_detail, name="org-incident-detail"),
]
