"""Celery beat entries of the incidents app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

import os

BEAT_SCHEDULE: dict = {
    # Escalate unacknowledged incidents and critical alerts past their step delay.
    "incidents-escalate-due": {
        "task": "incidents.tasks.escalate_due",
        "schedule": float(os.environ.get("ESCALATION_BEAT_SECONDS", "60")),
    },
}
