"""APM beat jobs. Thin: each opens the service context and calls services."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from .services import (
    AGGREGATION_BUCKETS,
    metrics_aggregate,
    metrics_drop_expired_partitions,
    metrics_ensure_partitions,
)

# Partitions exist from yesterday to this many days ahead (UTC days).
PARTITION_DAYS_AHEAD = 7


@shared_task(name="apm.tasks.aggregate")
def aggregate() -> dict[int, int]:
    """Aggregate new metric points into 1-minute, 5-minute and 1-hour buckets.

    One transaction per bucket width (the widths lock independently).
    Returns ``{bucket_seconds: aggregation rows written}``.
    """
    written = {}
    for bucket_seconds in AGGREGATION_BUCKETS:
        with service_context():
            written[bucket_seconds] = metrics_aggregate(bucket_seconds=bucket_seconds)
    return written


@shared_task(name="apm.tasks.ensure_partitions")
def ensure_partitions() -> int:
    """Create the daily ``apm_metrics`` partitions from yesterday to today + 7 days (UTC); returns how many."""
    today = timezone.now().astimezone(dt.UTC).date()
    with service_context():
        return metrics_ensure_partitions(
            from_day=today - dt.timedelta(days=1), to_day=today + dt.timedelta(days=PARTITION_DAYS_AHEAD)
        )


@shared_task(name="apm.tasks.drop_expired_partitions")
def drop_expired_partitions() -> int:
    """Drop the ``apm_metrics`` partitions past the 90-day retention (whole UTC days); returns how many."""
    with service_context():
        return metrics_drop_expired_partitions(now=timezone.now())


@shared_task(name="apm.tasks.poll_providers")
def poll_providers() -> dict[int, int | str]:
    """Poll every due provider configuration; returns ``{configuration id: points stored or the error}``.

    Claims the due ones, then per configuration: reads it, asks the
    provider outside any transaction (HTTP with the configuration's
    timeout), and records the outcome in its own transaction.
    """
    from .models import ApmConfiguration
    from .providers import ProviderError
    from .services import apm_configuration_fetch, apm_configuration_record_poll, apm_configurations_claim_due

    now = timezone.now()
    with service_context():
        ids = apm_configurations_claim_due(now=now)
    outcome: dict[int, int | str] = {}
    for config_id in ids:
        with service_context():
            configuration = ApmConfiguration.objects.get(pk=config_id)
        try:
            points, error = apm_configuration_fetch(configuration=configuration, now=now), None
        except ProviderError as exc:
            points, error = None, str(exc)
        with service_context():
            stored = apm_configuration_record_poll(configuration=configuration, now=now, points=points, error=error)
        outcome[config_id] = error if error else stored
    return outcome


@shared_task(name="apm.tasks.run_health_checks")
def run_health_checks() -> dict[int, str]:
    """Run every due service health check; returns ``{check id: status after the run}``.

    Claims the due checks, then per check: reads it, probes it outside any
    transaction, records the result in its own transaction.
    """
    from .models import ServiceHealthCheck
    from .services import health_check_probe, health_check_record, health_checks_claim_due

    now = timezone.now()
    with service_context():
        ids = health_checks_claim_due(now=now)
    statuses = {}
    for check_id in ids:
        with service_context():
            check = ServiceHealthCheck.objects.get(pk=check_id)
        result = health_check_probe(check=check)
        with service_context():
            statuses[check_id] = health_check_record(check=check, result=result, now=now).status
    return statuses


@shared_task(name="apm.tasks.capture_system_health_snapshot")
def capture_system_health_snapshot() -> int:
    """Write one system health snapshot (every 5 minutes); returns its id."""
    from .services import system_health_snapshot_capture

    with service_context():
        return system_health_snapshot_capture(now=timezone.now())


@shared_task(name="apm.tasks.cleanup_monitoring_data")
def cleanup_monitoring_data() -> int:
    """Apply the platform retention (metrics 90 days, closed incidents a year); returns rows deleted."""
    from .services import monitoring_data_cleanup

    with service_context():
        return monitoring_data_cleanup(now=timezone.now())


@shared_task(name="apm.tasks.rollup_performance")
def rollup_performance() -> dict[str, int]:
    """Roll recent points into core_web_vitals, api_performance, user_journey_performance (``apm.performance``)."""
    from .performance import performance_rollup

    with service_context():
        return performance_rollup(now=timezone.now())


@shared_task(name="apm.tasks.correlate_errors")
def correlate_errors() -> int:
    """Link error patterns of different services that are one problem (``apm.correlation``); returns pairs."""
    from .correlation import error_correlations_run

    with service_context():
        return error_correlations_run(now=timezone.now())
