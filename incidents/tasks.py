"""Celery tasks of the incidents app: thin wrappers over the services."""

from celery import shared_task
from django.utils import timezone

from .escalation import escalations_run


@shared_task(name="incidents.tasks.escalate_due", ignore_result=True)
def escalate_due() -> dict:
    """Beat job (every ``ESCALATION_BEAT_SECONDS``): escalate due incidents and critical alerts at ``now``.

    Returns ``{"incidents": n, "alerts": m}``. Safe to run in several
    processes at once: every step is claimed with a conditional UPDATE.
    """
    return escalations_run(now=timezone.now())
