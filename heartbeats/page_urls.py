"""Server-rendered pages of the heartbeats app, mounted at the site root."""

from django.urls import path

from . import pages

urlpatterns = [
    path("org/<slug:slug>/heartbeats/", pages.org_checks, name="heartbeats-org-list"),
    path("org/<slug:slug>/heartbeats/<uuid:check_id>/", pages.org_check_detail, name="heartbeats-org-detail"),
    path("ops/heartbeats/", pages.ops_checks, name="heartbeats-ops-list"),
    path("ops/heartbeats/<uuid:check_id>/", pages.ops_check_detail, name="heartbeats-ops-detail"),
    path("ops/jobs/", pages.ops_jobs, name="heartbeats-ops-jobs"),
    path("ops/jobs/<str:job>/", pages.ops_job_detail, name="heartbeats-ops-job"),
]
