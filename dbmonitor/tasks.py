"""Celery tasks of the dbmonitor app. Thin: open a service context and call a service."""

from celery import shared_task
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from . import services


@shared_task(name="dbmonitor.tasks.snapshot")
def snapshot() -> int | None:
    """Beat, every minute: ``db_snapshot_capture(now=timezone.now())``; returns the snapshot id."""
    with service_context():
        return services.db_snapshot_capture(now=timezone.now())


@shared_task(name="dbmonitor.tasks.evaluate_checks")
def evaluate_checks() -> dict:
    """Beat, every minute: ``db_checks_evaluate(now=timezone.now())``; returns its counts."""
    with service_context():
        return services.db_checks_evaluate(now=timezone.now())


@shared_task(name="dbmonitor.tasks.cleanup")
def cleanup() -> dict:
    """Beat, hourly: snapshots past ``conf.HISTORY_DAYS`` and old monitoring events; returns rows deleted."""
    with service_context():
        return {
            "history": services.db_history_cleanup(now=timezone.now()),
            "events": services.monitoring_data_cleanup(),
        }


@shared_task(name="dbmonitor.tasks.rollup_database_performance")
def rollup_database_performance() -> int:
    """Roll the latest snapshots' statement deltas into ``database_performance`` (``dbmonitor.performance``)."""
    from .performance import database_performance_rollup

    with service_context():
        return database_performance_rollup(now=timezone.now())
