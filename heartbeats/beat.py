"""Celery beat entries of the heartbeats app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

import os

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    # Set-based: which checks turned late or down since the last tick; alerts for those alone.
    "heartbeats-evaluate-checks": {
        "task": "heartbeats.tasks.evaluate_checks",
        "schedule": float(os.environ.get("HEARTBEAT_EVALUATE_SECONDS", "30")),
    },
    # The portal's own dead man's switch: ping HEARTBEAT_PING_URL (if set) every minute.
    "heartbeats-ping-external": {"task": "heartbeats.tasks.ping_external", "schedule": 60.0},
    # Retention: pings beyond HEARTBEAT_PINGS_KEPT per check, old flips and job runs.
    "heartbeats-cleanup": {"task": "heartbeats.tasks.cleanup", "schedule": crontab(minute=41)},
}
