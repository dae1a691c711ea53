"""Ping URLs (healthchecks.io's paths), mounted at the site root: ``/ping/<uuid>[/start|/fail|/log|/<exit-status>]``."""

from django.urls import path, re_path

from . import api

urlpatterns = [
    path("ping/<uuid:code>", api.ping, name="heartbeat-ping"),
    path("ping/<uuid:code>/", api.ping),
    path("ping/<uuid:code>/start", api.ping, {"action": "start"}, name="heartbeat-ping-start"),
    path("ping/<uuid:code>/fail", api.ping, {"action": "fail"}, name="heartbeat-ping-fail"),
    path("ping/<uuid:code>/log", api.ping, {"action": "log"}, name="heartbeat-ping-log"),
    path("ping/<uuid:code>/<int:exit_status>", api.ping, name="heartbeat-ping-exit"),
    re_path(r"^ping/", api.not_found),
]
