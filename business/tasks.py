"""Business beat jobs. Thin: each opens the service context and calls services."""

from celery import shared_task
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from .services import business_events_cleanup, business_recompute_recent, business_rules_evaluate


@shared_task(name="business.tasks.compute_daily")
def compute_daily() -> dict[str, int]:
    """Recompute the recent local days' funnels, feature usage, revenue and segment counts; rows per function."""
    with service_context():
        return business_recompute_recent(now=timezone.now())


@shared_task(name="business.tasks.evaluate_rules")
def evaluate_rules() -> dict[str, int]:
    """Evaluate the business alert rules; ``{"evaluated", "breaching", "fired", "resolved"}``."""
    with service_context():
        return business_rules_evaluate(now=timezone.now())


@shared_task(name="business.tasks.cleanup")
def cleanup() -> int:
    """Delete business events past their 400-day retention; returns rows deleted."""
    with service_context():
        return business_events_cleanup(now=timezone.now())
