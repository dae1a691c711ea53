"""Server-rendered pages of the heartbeats app, mounted at the site root."""

from django.urls import path

from . import views

urlpatterns = [
    path("org/<slug:slug>/heartbeats/", views.org_checks, name="heartbeats-org-list"),
    path("org/<slug:slug>/heartbeats/<uuid:check_id>/", views.org_check_detail, name="heartbeats-org-detail"),
    path("ops/heartbeats/", views.ops_checks, name="heartbeats-ops-list"),
    path("ops/heartbeats/<uuid:check_id>/", views.ops_check_detail, name="heartbeats-ops-detail"),
    path("ops/jobs/", views.ops_jobs, name="heartbeats-ops-jobs"),
    path("ops/jobs/<str:job>/", views.ops_job_detail, name="heartbeats-ops-job"),
]
