"""Celery application. Tasks are thin: they open a tenant context and call services.

Queues, priorities and time limits: ``wedsync_ops/queues.py``; one beat at a time: celery-redbeat's
lock (settings). Workers log JSON lines with the task id (django-structlog's worker step).
"""

import os

from celery import Celery
from django.conf import settings
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")

app = Celery("wedsync_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _redbeat_settings(sender, **kwargs):
    """celery-redbeat looks its settings up by bare name (``redbeat_redis_url``…), not by the namespaced one."""
    sender.conf.update(
        {
            name.removeprefix("CELERY_").lower(): getattr(settings, name)
            for name in dir(settings)
            if name.startswith("CELERY_REDBEAT_")
        }
    )


app.steps["worker"].add(DjangoStructLogInitStep)
app.autodiscover_tasks()
# Every worker watches that the beat jobs run (heartbeats.worker): a stopped beat is noticed without beat.
app.steps["worker"].add("heartbeats.worker.JobWatchStep")
