"""APM state changes: metric ingest (COPY) and aggregation. (Contract; the apm helper implements.)"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricRow:
    """One validated metric point, ready for COPY. ``value`` in ``unit`` (ms for latencies)."""

    organization_id: uuid.UUID
    service: str
    metric_name: str
    value: float
    recorded_at: dt.datetime
    unit: str = ""
    tags: dict = field(default_factory=dict)


def metrics_copy(*, rows: list[MetricRow]) -> int:
    """Write validated rows into ``apm_metrics`` with one COPY; returns rows written.

    Ensures the daily partitions the rows fall in exist first. Must run in a
    transaction whose tenant context may insert these organizations' rows.
    """
    raise NotImplementedError


def metrics_aggregate(*, bucket_seconds: int = 60) -> int:
    """Run ``aggregate_metrics(interval)``; returns aggregation rows written."""
    raise NotImplementedError
