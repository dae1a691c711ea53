"""Celery tasks of the heartbeats app. Thin: open a service context and call a service."""

from celery import shared_task
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from . import services, watch


@shared_task(name="heartbeats.tasks.evaluate_checks")
def evaluate_checks() -> dict:
    """Beat, every ``HEARTBEAT_EVALUATE_SECONDS`` (30 s): ``checks_evaluate(now=…)``; returns its counts."""
    with service_context():
        return services.checks_evaluate(now=timezone.now())


@shared_task(name="heartbeats.tasks.watch_jobs")
def watch_jobs() -> dict:
    """Queued by every worker's own timer (not by beat): ``jobs_watch(now=…)``; returns its counts."""
    with service_context():
        return watch.jobs_watch(now=timezone.now())


@shared_task(name="heartbeats.tasks.ping_external")
def ping_external() -> dict:
    """Beat, every minute: ``external_ping(now=…)`` to ``HEARTBEAT_PING_URL`` (nothing when unset)."""
    return watch.external_ping(now=timezone.now())


@shared_task(name="heartbeats.tasks.cleanup")
def cleanup() -> dict:
    """Beat, hourly: ``heartbeats_cleanup(now=…)``; returns rows deleted."""
    with service_context():
        return services.heartbeats_cleanup(now=timezone.now())
