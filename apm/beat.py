"""Celery beat entries of the apm app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    "apm-ensure-partitions": {"task": "apm.tasks.ensure_partitions", "schedule": crontab(minute=7)},
    "apm-aggregate": {"task": "apm.tasks.aggregate", "schedule": 60.0},
}
