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


@shared_task(name="incidents.tasks.recovery_start", ignore_result=True)
def recovery_start() -> dict:
    """Beat job (every 15 s): start the automated runbook actions of newly firing alerts (``incidents.recovery``)."""
    from wedsync_ops.tenancy.context import service_context

    from .recovery import recovery_start as start

    with service_context():
        return start(now=timezone.now())


@shared_task(name="incidents.tasks.run_recovery_action", ignore_result=True)
def run_recovery_action(log_id: str) -> str | None:
    """Run one pending automated action (``incidents.recovery.recovery_run``); returns its status, or None."""
    from wedsync_ops.tenancy.context import service_context

    from .recovery import recovery_run

    with service_context():
        log = recovery_run(log_id=log_id, now=timezone.now())
    return log.status if log else None


@shared_task(name="incidents.tasks.recovery_check", ignore_result=True)
def recovery_check() -> dict:
    """Beat job (every 30 s): decide which automated runs recovered their alert (``incidents.recovery``)."""
    from wedsync_ops.tenancy.context import service_context

    from .recovery import recovery_check as check

    with service_context():
        return check(now=timezone.now())
