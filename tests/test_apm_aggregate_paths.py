"""aggregate_metrics' three plans (span, probe, hash) give the same statistics as a Python computation."""

import datetime as dt
import random

from django.db import connection

from apm.services import MetricRow
from tests.conftest import WEDNESDAY
from tests.test_apm_aggregate import aggregate, assert_stats_equal, expected_stats, stored_stats
from wedsync_ops.tenancy.context import service_context


def _advance_watermark(to: dt.datetime) -> None:
    """As if a run at ``to`` had found nothing new: the older rows are then out of the 2-minute overlap."""
    with service_context(), connection.cursor() as cur:
        cur.execute("UPDATE apm_aggregation_watermarks SET last_ingested_at = %s", [to])


def _series_rows(world, *, buckets: int, start: dt.datetime, rnd: random.Random, per_bucket: int = 2, metrics: int = 1):
    return [
        MetricRow(
            world.org_a.id if b % 2 else world.org_b.id,
            "svc",
            f"m{k}",
            round(rnd.uniform(1, 500), 3),
            start + dt.timedelta(minutes=b, seconds=rnd.randrange(60)),
        )
        for b in range(buckets)
        for k in range(metrics)
        for _ in range(per_bucket)
    ]


def insert_raw(rows, *, ingested_at):
    """Insert MetricRows with an explicit ingested_at in one INSERT … SELECT unnest (fast for ~50,000 rows)."""
    with service_context(), connection.cursor() as cur:
        cur.execute("SELECT apm_ensure_metric_partitions('2026-06-09', '2026-06-11')")
        cur.execute(
            "INSERT INTO apm_metrics (organization_id, service, metric_name, value, recorded_at, ingested_at)"
            " SELECT o, s, m, v, r, %s FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::float8[],"
            " %s::timestamptz[]) AS u(o, s, m, v, r)",
            [
                ingested_at,
                [r.organization_id for r in rows],
                [r.service for r in rows],
                [r.metric_name for r in rows],
                [r.value for r in rows],
                [r.recorded_at for r in rows],
            ],
        )


def test_many_touched_buckets_with_older_rows_take_the_hash_path_and_are_exact(world):
    rnd = random.Random(7)
    start = WEDNESDAY - dt.timedelta(hours=30)
    old = _series_rows(world, buckets=2400, start=start, rnd=rnd, per_bucket=1, metrics=9)
    insert_raw(old, ingested_at=WEDNESDAY - dt.timedelta(hours=1))
    assert aggregate(60) == len(expected_stats(old, 60))  # span path: every row new
    _advance_watermark(WEDNESDAY - dt.timedelta(minutes=10))
    new = _series_rows(world, buckets=2400, start=start, rnd=rnd, per_bucket=1, metrics=9)
    insert_raw(new, ingested_at=WEDNESDAY)

    assert aggregate(60) == len(expected_stats(old + new, 60))  # > 20,000 touched buckets, older rows present
    assert_stats_equal(stored_stats(60), expected_stats(old + new, 60))
    assert aggregate(60) == 0


def test_few_touched_buckets_take_the_probe_path_and_leave_the_rest_alone(world):
    rnd = random.Random(8)
    old = _series_rows(world, buckets=50, start=WEDNESDAY - dt.timedelta(hours=2), rnd=rnd)
    insert_raw(old, ingested_at=WEDNESDAY - dt.timedelta(hours=1))
    aggregate(60)
    _advance_watermark(WEDNESDAY - dt.timedelta(minutes=10))
    late = [MetricRow(world.org_a.id, "svc", "m1", 1e6, WEDNESDAY - dt.timedelta(hours=2) + dt.timedelta(minutes=1))]
    insert_raw(late, ingested_at=WEDNESDAY)

    assert aggregate(60) == 1
    assert_stats_equal(stored_stats(60), expected_stats(old + late, 60))


def test_the_temporary_table_and_planner_setting_do_not_leak_into_the_caller(world):
    rnd = random.Random(9)
    start = WEDNESDAY - dt.timedelta(hours=30)
    insert_raw(
        _series_rows(world, buckets=2100, start=start, rnd=rnd, per_bucket=1, metrics=10),
        ingested_at=WEDNESDAY - dt.timedelta(hours=1),
    )
    aggregate(60)
    _advance_watermark(WEDNESDAY - dt.timedelta(minutes=10))
    insert_raw(_series_rows(world, buckets=2100, start=start, rnd=rnd, per_bucket=1, metrics=10), ingested_at=WEDNESDAY)
    aggregate(60)
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('enable_nestloop'), count(*) FROM pg_temp.apm_aggregate_touched")
        assert cur.fetchone() == ("on", 0)
