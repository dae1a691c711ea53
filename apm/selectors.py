"""Reads of APM data that several pages share."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection
from django.utils import timezone

# The latest buckets are found first (MATERIALIZED: once), then named: with
# organizations joined inside, the planner (misjudging the RLS filter on
# organizations) probed the bucket key index once per organization and read
# every 1-minute bucket of each, or re-sorted the hour once per organization
# (225 ms, then 55 ms at 10M points); alone, the last hour of 1-minute
# buckets comes from idx_apm_aggregations_time (bucket_seconds, bucket_start).
_LATEST_P95_SQL = """
WITH latest AS MATERIALIZED (
    -- The newest bucket of each series by a hash aggregate (a sort of the hour's ~10k rows for
    -- DISTINCT ON cost twice as much at 10M points), then its row by the unique bucket key.
    SELECT a.organization_id, a.service, a.metric_name, max(a.bucket_start) AS bucket_start
    FROM apm_metric_aggregations a
    WHERE a.bucket_seconds = 60
      AND a.bucket_start > %(now)s - interval '1 hour' AND a.bucket_start <= %(now)s
      AND (%(org)s::uuid IS NULL OR a.organization_id = %(org)s::uuid)
    GROUP BY a.organization_id, a.service, a.metric_name
)
SELECT latest.organization_id, o.slug AS organization_slug, o.name AS organization_name,
       latest.service, latest.metric_name, a.p95, a.count, latest.bucket_start
FROM latest
JOIN apm_metric_aggregations a
  ON a.organization_id = latest.organization_id AND a.service = latest.service
 AND a.metric_name = latest.metric_name AND a.bucket_seconds = 60 AND a.bucket_start = latest.bucket_start
JOIN organizations o ON o.id = latest.organization_id
ORDER BY o.slug, latest.service, latest.metric_name
"""


def latest_p95_by_service(*, organization_id: uuid.UUID | None = None, now: dt.datetime | None = None) -> list[dict]:
    """The latest 1-minute p95 per (organization, service, metric) within the last hour.

    Returns ``[{"organization_id", "organization_slug", "organization_name", "service",
    "metric_name", "p95", "count", "bucket_start"}]`` ordered by organization slug, service; filtered
    to ``organization_id`` when given. RLS applies as usual.

    "Within the last hour": buckets starting in ``(now - 1 h, now]``
    (``now`` defaults to the current time). ``p95`` is in the metric's unit,
    ``count`` the points in that bucket, ``bucket_start`` an aware UTC
    datetime; rows with the same slug and service are ordered by
    metric_name. One query (``apm_metric_aggregations`` joined to
    ``organizations``); a context that sees no organization gets ``[]``.
    """
    now = now or timezone.now()
    with connection.cursor() as cur:
        cur.execute(_LATEST_P95_SQL, {"now": now, "org": str(organization_id) if organization_id else None})
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def latency_p95_by_five_minutes(*, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, float, float]]:
    """Per 5-minute bucket starting in [start, end): ``(bucket_start, worst p95, median p95)`` over the
    latency metrics of every series the caller may see (RLS), oldest first; buckets without any are absent.

    Latency metrics are the names ``is_latency_metric()`` matches (``duration``/``latency`` in them, or
    ending ``_ms``, in any case); p95s in the metric's unit (ms); the median is ``percentile_cont(0.5)``
    (linear interpolation). One query, answered by an index-only scan of the partial index
    ``idx_apm_aggregations_latency_5m`` (migration 0025) whose predicate is this WHERE, word for word:
    change both or neither (tests/test_saturday_dashboard.py checks the plan). At 10M points: 1.3 ms,
    7.7 ms through idx_apm_aggregations_time before.
    """
    with connection.cursor() as cur:
        # The name test reads ASCII case only (COLLATE "C"): the patterns are ASCII, so it matches what
        # is_latency_metric() matches, at half the cost of ILIKE under the database's UTF-8 locale.
        cur.execute(
            """
            SELECT bucket_start, max(p95), percentile_cont(0.5) WITHIN GROUP (ORDER BY p95)
            FROM apm_metric_aggregations
            WHERE bucket_seconds = 300 AND bucket_start >= %s AND bucket_start < %s
              AND (metric_name COLLATE "C" ILIKE '%%duration%%' OR metric_name COLLATE "C" ILIKE '%%latency%%'
                   OR metric_name COLLATE "C" ILIKE '%%\\_ms')
            GROUP BY bucket_start ORDER BY bucket_start
            """,
            [start, end],
        )
        return cur.fetchall()


# Uptime windows of the health pages: label -> length.
UPTIME_WINDOWS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}


def health_check_uptime(*, check_ids: list[int], now: dt.datetime) -> dict[int, dict[str, float | None]]:
    """Uptime % per check over the last 24 h, 7 d and 30 d: ``{check_id: {"24h": 99.5, "7d": …, "30d": …}}``.

    Uptime = 100 × successful runs / runs in ``(now - window, now]``; None
    for a window without runs. One query over ``service_health_results``
    (RLS applies: checks the caller cannot see give no runs).
    """
    if not check_ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT check_id,"
            " 100.0 * count(*) FILTER (WHERE ok AND checked_at > %(now)s - interval '24 hours')"
            "   / NULLIF(count(*) FILTER (WHERE checked_at > %(now)s - interval '24 hours'), 0),"
            " 100.0 * count(*) FILTER (WHERE ok AND checked_at > %(now)s - interval '7 days')"
            "   / NULLIF(count(*) FILTER (WHERE checked_at > %(now)s - interval '7 days'), 0),"
            " 100.0 * count(*) FILTER (WHERE ok) / NULLIF(count(*), 0)"
            " FROM service_health_results"
            " WHERE check_id = ANY(%(ids)s) AND checked_at > %(now)s - interval '30 days' AND checked_at <= %(now)s"
            " GROUP BY check_id",
            {"now": now, "ids": list(check_ids)},
        )
        found = {
            row[0]: dict(zip(UPTIME_WINDOWS, (float(v) if v is not None else None for v in row[1:]), strict=True))
            for row in cur.fetchall()
        }
    return {i: found.get(i, dict.fromkeys(UPTIME_WINDOWS)) for i in check_ids}


def health_check_response_times(*, check_id: int, since: dt.datetime, now: dt.datetime) -> list[tuple]:
    """``[(checked_at, response_ms or None, ok)]`` of one check's runs in ``(since, now]``, oldest first."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT checked_at, response_ms, ok FROM service_health_results"
            " WHERE check_id = %s AND checked_at > %s AND checked_at <= %s ORDER BY checked_at",
            [check_id, since, now],
        )
        return cur.fetchall()


def widget_series(*, organization_id: uuid.UUID, widget: dict, now: dt.datetime) -> list[tuple[dt.datetime, float]]:
    """``[(bucket_start, value)]`` of one dashboard widget, oldest first.

    From ``apm_metric_aggregations`` of the widget's service and metric,
    buckets of the width its window uses (1h: 60 s; 24h, 7d: 3600 s) in
    ``(now - window, now]``; ``value`` is the widget's aggregation column
    (in the metric's unit; ``count`` in points).
    """
    from .services import DASHBOARD_AGGREGATIONS, DASHBOARD_WINDOWS

    column = widget["aggregation"]
    if column not in DASHBOARD_AGGREGATIONS:
        raise ValueError(f"unknown aggregation {column!r}")
    window, width = DASHBOARD_WINDOWS[widget["window"]]
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT bucket_start, {column}::float8 FROM apm_metric_aggregations"  # column: from the allow-list
            " WHERE organization_id = %s AND service = %s AND metric_name = %s AND bucket_seconds = %s"
            " AND bucket_start > %s AND bucket_start <= %s ORDER BY bucket_start",
            [organization_id, widget["service"], widget["metric"], width, now - window, now],
        )
        return cur.fetchall()


def unresolved_error_patterns(*, organization_id: uuid.UUID, limit: int = 20) -> list:
    """The organization's unresolved error patterns, most recently seen first (ErrorPattern objects)."""
    from .models import ErrorPattern

    return list(
        ErrorPattern.objects.filter(organization_id=organization_id, status=ErrorPattern.Status.UNRESOLVED).order_by(
            "-last_seen"
        )[:limit]
    )


def health_check_daily_uptime(*, check_ids: list[int], days: int, now: dt.datetime, tz: str) -> dict[int, dict]:
    """Runs per check per local day over the last ``days`` days: ``{check_id: {date: (ok_runs, runs)}}``.

    Days are dates in the IANA zone ``tz`` (the organization's), from ``days - 1`` days before
    ``now``'s local date to that date; a day without runs is absent. One query over
    ``service_health_results`` (index ``service_health_results_check``); RLS applies.
    """
    if not check_ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT check_id, (checked_at AT TIME ZONE %(tz)s)::date AS day,"
            " count(*) FILTER (WHERE ok), count(*)"
            " FROM service_health_results"
            " WHERE check_id = ANY(%(ids)s) AND checked_at <= %(now)s"
            "   AND checked_at >= ((%(now)s AT TIME ZONE %(tz)s)::date - %(back)s)::timestamp AT TIME ZONE %(tz)s"
            " GROUP BY 1, 2",
            {"ids": list(check_ids), "now": now, "tz": tz, "back": days - 1},
        )
        found: dict[int, dict] = {i: {} for i in check_ids}
        for check_id, day, ok, total in cur.fetchall():
            found[check_id][day] = (ok, total)
    return found
