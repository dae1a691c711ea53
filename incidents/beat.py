"""Celery beat entries of the incidents app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

BEAT_SCHEDULE: dict = {}
