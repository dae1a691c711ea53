"""Celery beat entries of the dbmonitor app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

BEAT_SCHEDULE: dict = {}
