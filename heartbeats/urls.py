"""Ping URLs (healthchecks.io's paths), mounted at the site root: ``/ping/<uuid>[/start|/fail|/log|/<exit-status>]``."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("ping/<uuid:code>", views.ping, name="heartbeat-ping"),
    path("ping/<uuid:code>/", views.ping),
    path("ping/<uuid:code>/start", views.ping, {"action": "start"}, name="heartbeat-ping-start"),
    path("ping/<uuid:code>/fail", views.ping, {"action": "fail"}, name="heartbeat-ping-fail"),
    path("ping/<uuid:code>/log", views.ping, {"action": "log"}, name="heartbeat-ping-log"),
    path("ping/<uuid:code>/<int:exit_status>", views.ping, name="heartbeat-ping-exit"),
    re_path(r"^ping/", views.not_found),
]
