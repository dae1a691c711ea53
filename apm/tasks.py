"""APM beat jobs. Thin: each opens the service context and calls services."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

from .services import AGGREGATION_BUCKETS, metrics_aggregate, metrics_ensure_partitions

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
