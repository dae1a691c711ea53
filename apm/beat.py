"""Celery beat entries of the apm app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    "apm-ensure-partitions": {"task": "apm.tasks.ensure_partitions", "schedule": crontab(minute=7)},
    "apm-aggregate": {"task": "apm.tasks.aggregate", "schedule": 60.0},
    # WS-259's performance tables from the last 5 minutes of ingest (apm.performance).
    "apm-rollup-performance": {"task": "apm.tasks.rollup_performance", "schedule": 60.0},
    # Error patterns of different services that are one problem (apm.correlation).
    "apm-correlate-errors": {"task": "apm.tasks.correlate_errors", "schedule": 60.0},
    "apm-system-health-snapshot": {"task": "apm.tasks.capture_system_health_snapshot", "schedule": 300.0},
    # Daily at 03:37 UTC, after the partition drop: the rest of the retention.
    "apm-cleanup-monitoring-data": {
        "task": "apm.tasks.cleanup_monitoring_data",
        "schedule": crontab(hour=3, minute=37),
    },
    # Every 10 s: run the health checks whose own interval has passed.
    "apm-health-checks": {"task": "apm.tasks.run_health_checks", "schedule": 10.0},
    # Every 15 s: poll the provider configurations whose own interval has passed.
    "apm-poll-providers": {"task": "apm.tasks.poll_providers", "schedule": 15.0},
    # Daily at 03:17 UTC: drop partitions whose whole day is past the 90-day retention.
    "apm-drop-expired-partitions": {
        "task": "apm.tasks.drop_expired_partitions",
        "schedule": crontab(hour=3, minute=17),
    },
}
