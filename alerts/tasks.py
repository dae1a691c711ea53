"""Celery tasks of the alerts app. Thin: open a tenant context and call a service."""

from celery import shared_task
from django.utils import timezone

from alerts.evaluation import rules_evaluate
from alerts.notify import alerts_repeat
from alerts.silences import suppressions_apply
from wedsync_ops.tenancy.context import service_context


@shared_task(name="alerts.tasks.evaluate_rules")
def evaluate_rules() -> dict:
    """Beat, every minute: ``rules_evaluate(now=timezone.now())`` in a service context; returns its counts."""
    with service_context():
        return rules_evaluate(now=timezone.now())


@shared_task(name="alerts.tasks.apply_suppressions")
def apply_suppressions() -> dict:
    """Beat, every minute: ``suppressions_apply(now=timezone.now())`` in a service context; returns its counts."""
    with service_context():
        return suppressions_apply(now=timezone.now())


@shared_task(name="alerts.tasks.repeat_notifications", ignore_result=True)
def repeat_notifications() -> int:
    """Beat (every 5 min): re-send the notifications of alerts firing for ``REPEAT_INTERVAL_S`` (repeat_interval)."""
    return alerts_repeat(now=timezone.now())


@shared_task(name="alerts.tasks.drain_integration_backlog")
def drain_integration_backlog() -> dict:
    """Queued when a payload is parked, and swept by beat every 10 s: ingest parked integration payloads in order.

    Returns the counts of ``alerts.integrations.backlog.integration_backlog_drain``.
    """
    from alerts.integrations.backlog import integration_backlog_drain

    return integration_backlog_drain()
