"""``database_performance`` (WS-259, issue 18 §2): its rollup from the statement history, and its read.

Written only by SQL ``rollup_database_performance(at, lookback)``
(``dbmonitor/sql/functions/rollup_database_performance.v1.sql``), run by the beat after each snapshot.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Max, Sum

from .models import DatabasePerformance


def database_performance_rollup(*, now: dt.datetime, lookback_minutes: int = 5) -> int:
    """Recompute the hours with a snapshot taken in ``(now - lookback, now]``; returns rows written.

    Staff or service context (SQL raises ``insufficient_privilege`` otherwise). ValueError: naive ``now``.
    """
    if now.tzinfo is None:
        raise ValueError("database_performance_rollup needs an aware datetime")
    with connection.cursor() as cur:
        cur.execute("SELECT rollup_database_performance(%s, %s)", [now, dt.timedelta(minutes=lookback_minutes)])
        return cur.fetchone()[0]


def top_queries(*, now: dt.datetime, hours: int = 24, limit: int = 10) -> list[dict]:
    """The statements that cost the most over the last ``hours``: ``[{"queryid", "query", "calls",
    "total_ms", "mean_ms", "worst_hourly_mean_ms"}]``, most total time (ms) first. Staff context."""
    rows = (
        DatabasePerformance.objects.filter(bucket_start__gt=now - dt.timedelta(hours=hours))
        .values("queryid")
        .annotate(calls=Sum("calls"), total_ms=Sum("total_ms"), worst_hourly_mean_ms=Max("mean_ms"), query=Max("query"))
        .order_by("-total_ms")[:limit]
    )
    return [dict(r, mean_ms=r["total_ms"] / r["calls"] if r["calls"] else None) for r in rows]
