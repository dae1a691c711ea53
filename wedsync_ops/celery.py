"""Celery application. Tasks are thin: they open a tenant context and call services."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")

app = Celery("wedsync_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker watches that the beat jobs run (heartbeats.worker): a stopped beat is noticed without beat.
app.steps["worker"].add("heartbeats.worker.JobWatchStep")
