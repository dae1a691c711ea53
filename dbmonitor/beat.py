"""Celery beat entries of the dbmonitor app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    # History: one snapshot a minute (pg_stat_statements deltas, connections, table health).
    "dbmonitor-snapshot": {"task": "dbmonitor.tasks.snapshot", "schedule": 60.0},
    # database_performance (per query fingerprint and hour) from the latest snapshots.
    "dbmonitor-rollup-database-performance": {"task": "dbmonitor.tasks.rollup_database_performance", "schedule": 60.0},
    # Threshold breaches -> monitoring events + alerts; cleared ones resolved.
    "dbmonitor-evaluate-checks": {"task": "dbmonitor.tasks.evaluate_checks", "schedule": 60.0},
    # Retention: snapshots after 14 days, events after 7 (open) / 30 (resolved) days.
    "dbmonitor-cleanup": {"task": "dbmonitor.tasks.cleanup", "schedule": crontab(minute=23)},
}
