"""Celery beat entries of the business app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    # Every 10 minutes: recompute the recent local days' funnels, feature usage, revenue and segments
    # (idempotent: the days are rewritten whole, so late events are counted on the next pass).
    "business-compute-daily": {"task": "business.tasks.compute_daily", "schedule": 600.0},
    # Every 5 minutes: business alert rules (an event type's count against its baseline).
    "business-evaluate-rules": {"task": "business.tasks.evaluate_rules", "schedule": 300.0},
    # Daily at 03:47 UTC: raw events past the 400-day retention (the daily tables are kept).
    "business-cleanup": {"task": "business.tasks.cleanup", "schedule": crontab(hour=3, minute=47)},
}
