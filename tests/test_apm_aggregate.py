"""aggregate_metrics(interval): per-bucket statistics, incremental and idempotent; the beat tasks; the p95 selector."""

import datetime as dt
import math
import queue
import random
import threading

import pytest
import time_machine
from django.db import DatabaseError, OperationalError, connection, connections, transaction

from apm import tasks
from apm.selectors import latest_p95_by_service
from apm.services import MetricRow, metrics_aggregate, metrics_copy
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context
from wedsync_ops.tenancy.models import Organization

T0 = WEDNESDAY  # 2026-06-10 12:00 UTC
STATS = ("count", "sum", "min", "max", "avg", "p50", "p95", "p99")


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall() if cur.description else None


def percentile_cont(values, fraction):
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def expected_stats(points, bucket_seconds):
    """{(org_id, service, metric, bucket_start): {stat: value}} computed in Python from MetricRows."""
    groups = {}
    for p in points:
        epoch = p.recorded_at.timestamp()
        start = dt.datetime.fromtimestamp(epoch - epoch % bucket_seconds, tz=dt.UTC)
        groups.setdefault((p.organization_id, p.service, p.metric_name, start), []).append(p.value)
    return {
        key: {
            "count": len(values),
            "sum": sum(values),
            "min": min(values),
            "max": max(values),
            "avg": sum(values) / len(values),
            "p50": percentile_cont(values, 0.5),
            "p95": percentile_cont(values, 0.95),
            "p99": percentile_cont(values, 0.99),
        }
        for key, values in groups.items()
    }


def stored_stats(bucket_seconds):
    with service_context():
        rows = _rows(
            f"SELECT organization_id, service, metric_name, bucket_start, {', '.join(STATS)}"
            " FROM apm_metric_aggregations WHERE bucket_seconds = %s",
            [bucket_seconds],
        )
    return {tuple(row[:4]): dict(zip(STATS, row[4:], strict=True)) for row in rows}


def assert_stats_equal(actual, expected):
    assert actual.keys() == expected.keys()
    for key, stats in expected.items():
        for name, value in stats.items():
            assert actual[key][name] == pytest.approx(value, rel=1e-9), (key, name)


def insert_raw(rows, *, ingested_at):
    """Insert MetricRows with an explicit ingested_at (as if their transaction had started then)."""
    with service_context():
        _rows("SELECT apm_ensure_metric_partitions('2026-06-09', '2026-06-11')")
        with connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO apm_metrics (organization_id, service, metric_name, value, recorded_at, ingested_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(r.organization_id, r.service, r.metric_name, r.value, r.recorded_at, ingested_at) for r in rows],
            )


def aggregate(bucket_seconds=60):
    with service_context():
        return metrics_aggregate(bucket_seconds=bucket_seconds)


@pytest.fixture
def points(world):
    """About 600 latency points of two organizations and three series over 75 minutes before T0."""
    rnd = random.Random(20260610)
    series = [
        (world.org_a.id, "checkout-api", "http.duration"),
        (world.org_a.id, "checkout-api", "db.duration"),
        (world.org_b.id, "gallery", "http.duration"),
    ]
    rows = []
    for org_id, service, metric in series:
        for _ in range(200):
            at = T0 - dt.timedelta(seconds=rnd.randrange(0, 75 * 60), microseconds=rnd.randrange(0, 10**6))
            rows.append(MetricRow(org_id, service, metric, round(rnd.lognormvariate(4, 0.8), 3), at, "ms"))
    with service_context():
        metrics_copy(rows=rows)
    return rows


# --- correctness ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket_seconds", [60, 300, 3600])
def test_statistics_match_a_python_computation(points, bucket_seconds):
    expected = expected_stats(points, bucket_seconds)

    assert aggregate(bucket_seconds) == len(expected)

    actual = stored_stats(bucket_seconds)
    assert_stats_equal(actual, expected)
    assert all(start.timestamp() % bucket_seconds == 0 for (_, _, _, start) in actual)


def test_buckets_of_one_hour_start_on_the_hour_in_utc(world):
    rows = [
        MetricRow(world.org_a.id, "svc", "m", v, T0 + dt.timedelta(minutes=m))
        for v, m in [(1, -61), (2, -59), (3, -1), (4, 0), (5, 1)]
    ]
    with service_context():
        metrics_copy(rows=rows)
    aggregate(3600)
    assert sorted((k[3], v["count"], v["sum"]) for k, v in stored_stats(3600).items()) == [
        (T0 - dt.timedelta(hours=2), 1, 1.0),
        (T0 - dt.timedelta(hours=1), 2, 5.0),
        (T0, 2, 9.0),
    ]


def test_a_single_point_has_all_percentiles_equal_to_it(world):
    with service_context():
        metrics_copy(rows=[MetricRow(world.org_a.id, "svc", "m", 42.5, T0)])
    aggregate(60)
    assert list(stored_stats(60).values()) == [
        {"count": 1, "sum": 42.5, "min": 42.5, "max": 42.5, "avg": 42.5, "p50": 42.5, "p95": 42.5, "p99": 42.5}
    ]


# --- incremental and idempotent --------------------------------------------------------------------


def test_a_second_run_writes_nothing_and_changes_nothing(points):
    first = aggregate(60)
    before = stored_stats(60)

    assert first > 0
    assert aggregate(60) == 0
    assert stored_stats(60) == before


def test_late_data_re_aggregates_its_bucket(points, world):
    aggregate(60)
    aggregate(3600)
    old_bucket = T0 - dt.timedelta(minutes=70)
    late = MetricRow(world.org_a.id, "checkout-api", "http.duration", 99_999.0, old_bucket + dt.timedelta(seconds=5))
    with service_context():
        metrics_copy(rows=[late])

    assert aggregate(60) == 1
    assert aggregate(3600) == 1
    assert_stats_equal(stored_stats(60), expected_stats([*points, late], 60))
    assert_stats_equal(stored_stats(3600), expected_stats([*points, late], 3600))
    assert stored_stats(60)[(world.org_a.id, "checkout-api", "http.duration", old_bucket)]["max"] == 99_999.0


def test_only_buckets_with_newly_ingested_rows_are_recomputed(world):
    old_bucket, middle_bucket, new_bucket = (T0 - dt.timedelta(minutes=m) for m in (30, 20, 1))
    insert_raw([MetricRow(world.org_a.id, "svc", "m", 1.0, old_bucket)], ingested_at=T0 - dt.timedelta(minutes=20))
    insert_raw([MetricRow(world.org_a.id, "svc", "m", 3.0, middle_bucket)], ingested_at=T0 - dt.timedelta(minutes=10))
    assert aggregate(60) == 2
    # Tamper with the old bucket: a run that rescanned everything would repair it.
    with service_context():
        _rows("UPDATE apm_metric_aggregations SET p95 = -1 WHERE bucket_start = %s", [old_bucket])

    insert_raw([MetricRow(world.org_a.id, "svc", "m", 2.0, new_bucket)], ingested_at=T0)

    assert aggregate(60) == 1
    stats = stored_stats(60)
    assert stats[(world.org_a.id, "svc", "m", old_bucket)]["p95"] == -1
    assert stats[(world.org_a.id, "svc", "m", middle_bucket)]["p95"] == 3.0
    assert stats[(world.org_a.id, "svc", "m", new_bucket)]["p95"] == 2.0


def test_rows_of_a_transaction_that_committed_after_the_last_run_are_not_missed(world):
    insert_raw([MetricRow(world.org_a.id, "svc", "m", 1.0, T0 - dt.timedelta(minutes=5))], ingested_at=T0)
    assert aggregate(60) == 1
    # A transaction that started 90 s before the watermark commits only now.
    straggler = MetricRow(world.org_a.id, "svc", "m", 7.0, T0 - dt.timedelta(minutes=10))
    insert_raw([straggler], ingested_at=T0 - dt.timedelta(seconds=90))

    assert aggregate(60) == 1
    assert stored_stats(60)[(world.org_a.id, "svc", "m", T0 - dt.timedelta(minutes=10))]["count"] == 1


def test_each_width_keeps_its_own_watermark(points):
    aggregate(60)
    assert aggregate(60) == 0
    # The 5-minute width has not run yet: it aggregates everything.
    assert aggregate(300) == len(expected_stats(points, 300))
    with service_context():
        widths = _rows("SELECT bucket_seconds FROM apm_aggregation_watermarks ORDER BY 1")
    assert widths == [(60,), (300,)]


# --- tenancy -------------------------------------------------------------------------------------


def test_a_vendor_sees_only_its_own_metrics_and_aggregations_in_raw_sql(points, world):
    aggregate(60)
    with vendor_context(world.org_b.id):
        orgs = _rows("SELECT DISTINCT organization_id FROM apm_metric_aggregations")
        assert orgs == [(world.org_b.id,)]
        assert _rows("SELECT DISTINCT organization_id FROM apm_metrics") == [(world.org_b.id,)]
        assert _rows("SELECT count(*) FROM apm_metric_aggregations WHERE organization_id = %s", [world.org_a.id]) == [
            (0,)
        ]
        # The watermarks are staff/service only.
        assert _rows("SELECT count(*) FROM apm_aggregation_watermarks") == [(0,)]
    with staff_context():
        assert _rows("SELECT count(DISTINCT organization_id) FROM apm_metric_aggregations") == [(2,)]


@pytest.mark.parametrize("ctx", ["vendor", "none"])
def test_aggregation_refuses_a_context_that_cannot_see_every_organization(points, world, ctx):
    with pytest.raises(DatabaseError, match="needs a staff or service context"):
        with transaction.atomic():
            if ctx == "vendor":
                with vendor_context(world.org_a.id):
                    metrics_aggregate(bucket_seconds=60)
            else:
                metrics_aggregate(bucket_seconds=60)
    assert stored_stats(60) == {}


@pytest.mark.parametrize("bucket", ["0 seconds", "1 month", "1.5 seconds", "2 days"])
def test_a_bad_bucket_width_is_refused(db, bucket):
    with service_context():
        with pytest.raises(DatabaseError, match="bucket must be a whole number of seconds"):
            with transaction.atomic():
                _rows("SELECT aggregate_metrics(%s::interval)", [bucket])


def test_metrics_aggregate_checks_the_width_before_the_database(db):
    with pytest.raises(ValueError, match="bucket_seconds must be an integer from 1 to 86400"):
        metrics_aggregate(bucket_seconds=0)


# --- concurrency ----------------------------------------------------------------------------------


@pytest.fixture
def committed_world(transactional_db):
    """Two organizations committed for real, and apm_metrics emptied afterwards (it is not flushed)."""
    with service_context():
        org_a = Organization.objects.create(slug="rosewood-florals", name="Rosewood Florals")
        org_b = Organization.objects.create(slug="bloom-and-vine", name="Bloom & Vine")
    yield org_a, org_b
    with service_context():
        _rows("DELETE FROM apm_metrics")
        _rows("DELETE FROM apm_aggregation_watermarks")


def _in_thread(fn, results):
    def run():
        try:
            results.put(("ok", fn()))
        except Exception as exc:  # reported to the main thread
            results.put(("error", exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_produce_the_correct_result(committed_world):
    org_a, org_b = committed_world
    rnd = random.Random(7)
    rows = [
        MetricRow(org, "svc", "m", rnd.random() * 100, T0 - dt.timedelta(seconds=rnd.randrange(3600)))
        for org in (org_a.id, org_b.id)
        for _ in range(300)
    ]
    with service_context():
        metrics_copy(rows=rows)
    start = threading.Barrier(2)

    def run():
        start.wait(timeout=10)
        return aggregate(60)

    results: queue.Queue = queue.Queue()
    threads = [_in_thread(run, results), _in_thread(run, results)]
    for thread in threads:
        thread.join(timeout=30)
    outcomes = [results.get_nowait() for _ in threads]

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    expected = expected_stats(rows, 60)
    # Serialised by the lock: one run writes every bucket, the other finds them up to date.
    assert sorted(written for _, written in outcomes) == [0, len(expected)]
    assert_stats_equal(stored_stats(60), expected)


@pytest.mark.django_db(transaction=True)
def test_a_run_waits_for_a_concurrent_run_of_the_same_width_only(committed_world):
    def try_width(bucket_seconds):
        def run():
            with service_context():
                _rows("SET LOCAL lock_timeout = '300ms'")
                return metrics_aggregate(bucket_seconds=bucket_seconds)

        return run

    results: queue.Queue = queue.Queue()
    with transaction.atomic():
        _rows("SELECT pg_advisory_xact_lock(hashtext('aggregate_metrics'), 60)")
        _in_thread(try_width(60), results).join(timeout=10)
        _in_thread(try_width(3600), results).join(timeout=10)
    same_width, other_width = results.get_nowait(), results.get_nowait()

    assert same_width[0] == "error" and isinstance(same_width[1], OperationalError)
    assert "lock timeout" in str(same_width[1])
    assert other_width == ("ok", 0)


# --- beat tasks ---------------------------------------------------------------------------------------


def test_the_beat_schedule_names_the_apm_tasks(settings):
    from wedsync_ops.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"apm.tasks.aggregate", "apm.tasks.ensure_partitions"} <= scheduled
    assert app.tasks["apm.tasks.aggregate"].run is tasks.aggregate.run
    assert app.tasks["apm.tasks.ensure_partitions"].run is tasks.ensure_partitions.run


def test_the_aggregate_task_runs_every_width(points):
    written = tasks.aggregate()
    assert written == {
        60: len(expected_stats(points, 60)),
        300: len(expected_stats(points, 300)),
        3600: len(expected_stats(points, 3600)),
    }
    assert tasks.aggregate() == {60: 0, 300: 0, 3600: 0}


def test_the_partition_task_creates_yesterday_to_a_week_ahead(db):
    with time_machine.travel(dt.datetime(2030, 1, 10, 23, 30, tzinfo=dt.UTC), tick=False):
        assert tasks.ensure_partitions() == 9
        assert tasks.ensure_partitions() == 0
    names = [
        name
        for (name,) in _rows(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'apm_metrics'::regclass AND c.relname LIKE 'apm\\_metrics\\_2030%%' ORDER BY 1"
        )
    ]
    assert names == [f"apm_metrics_203001{d:02d}" for d in range(9, 18)]


# --- selector -----------------------------------------------------------------------------------------


def _latest(**kwargs):
    return [
        (r["organization_slug"], r["service"], r["metric_name"], r["p95"], r["count"], r["bucket_start"])
        for r in latest_p95_by_service(now=T0, **kwargs)
    ]


@pytest.fixture
def minute_buckets(world):
    def row(org, service, value, minutes_ago):
        return MetricRow(org.id, service, "http.duration", value, T0 - dt.timedelta(minutes=minutes_ago, seconds=-1))

    rows = [
        row(world.org_a, "checkout-api", 10, 3),
        row(world.org_a, "checkout-api", 20, 1),
        row(world.org_a, "checkout-api", 30, 1),
        row(world.org_a, "admin", 5, 59),
        row(world.org_a, "stale", 1, 61),  # older than an hour: left out
        row(world.org_b, "gallery", 7, 2),
    ]
    with service_context():
        metrics_copy(rows=rows)
    aggregate(60)
    aggregate(300)  # other widths are ignored
    return world


def test_latest_p95_by_service_gives_the_newest_minute_of_each_series(minute_buckets):
    with service_context():
        latest = _latest()
    assert latest == [
        ("bloom-and-vine", "gallery", "http.duration", 7.0, 1, T0 - dt.timedelta(minutes=2)),
        ("rosewood-florals", "admin", "http.duration", 5.0, 1, T0 - dt.timedelta(minutes=59)),
        ("rosewood-florals", "checkout-api", "http.duration", pytest.approx(29.5), 2, T0 - dt.timedelta(minutes=1)),
    ]


def test_latest_p95_by_service_filters_to_one_organization(minute_buckets):
    with service_context():
        assert [r[0] for r in _latest(organization_id=minute_buckets.org_b.id)] == ["bloom-and-vine"]


def test_latest_p95_by_service_shows_a_vendor_only_its_own_services(minute_buckets):
    with vendor_context(minute_buckets.org_b.id):
        assert [r[:2] for r in _latest()] == [("bloom-and-vine", "gallery")]
        assert _latest(organization_id=minute_buckets.org_a.id) == []
    assert _latest() == []
