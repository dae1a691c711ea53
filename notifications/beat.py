"""Celery beat entries of the notifications app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

BEAT_SCHEDULE: dict = {
    "notifications-deliver-pending": {"task": "notifications.tasks.deliver_pending", "schedule": 30.0},
}
