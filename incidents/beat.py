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
    # Automated runbook actions of newly firing alerts, and whether finished ones recovered them (issue 18 §3).
    "incidents-recovery-start": {"task": "incidents.tasks.recovery_start", "schedule": 15.0},
    "incidents-recovery-check": {"task": "incidents.tasks.recovery_check", "schedule": 30.0},
}
