"""Celery beat entries of the alerts app, merged into settings.CELERY_BEAT_SCHEDULE.

Plain data only: this module is imported by settings, before Django is set up.
"""

BEAT_SCHEDULE: dict = {
    "alerts-evaluate-rules": {"task": "alerts.tasks.evaluate_rules", "schedule": 60.0},
    "alerts-apply-suppressions": {"task": "alerts.tasks.apply_suppressions", "schedule": 60.0},
    "alerts-repeat-notifications": {"task": "alerts.tasks.repeat_notifications", "schedule": 300.0},
    # Payloads parked over an integration's rate limit (alerts.integrations.backlog), if a queued drain was lost.
    "alerts-drain-integration-backlog": {"task": "alerts.tasks.drain_integration_backlog", "schedule": 10.0},
}
