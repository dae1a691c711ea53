"""Database history: per-minute snapshots, pg_stat_statements deltas (never a reset), 14-day retention,
trend charts; staff-only rows."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from dbmonitor import selectors, services, tasks
from dbmonitor.beat import BEAT_SCHEDULE
from dbmonitor.models import DbSnapshot, DbStatementCounter, DbStatementDelta, DbTableSnapshot
from wedsync_ops.charts import Series, line_chart
from wedsync_ops.tenancy.context import service_context, vendor_context

T0 = dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HISTORY_TABLES = ["db_snapshots", "db_statement_counters", "db_statement_deltas", "db_table_snapshots"]


def _run(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def _probe(n: int):
    """Run the probe statement (its own CTE name: its own pg_stat_statements entry) ``n`` times."""
    for i in range(n):
        _run("WITH dbmon_history_probe AS (SELECT %s::int AS v) SELECT v FROM dbmon_history_probe", [i])


PGSS_CALLS = (
    "SELECT sum(calls) FROM pg_stat_statements WHERE queryid = %s AND userid = (SELECT oid FROM pg_roles"
    " WHERE rolname = current_user) AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _probe_queryid():
    return _run("SELECT queryid FROM db_statement_counters WHERE query LIKE %s", ["%dbmon_history_probe%"])[0][0]


def test_first_snapshot_records_baselines_and_the_next_the_calls_in_between(db):
    with service_context():
        _probe(1)
        first = services.db_snapshot_capture(now=T0)
        assert DbStatementDelta.objects.count() == 0, "the first snapshot only records baselines"
        queryid = _probe_queryid()
        before = DbStatementCounter.objects.get(queryid=queryid).calls
        _probe(7)
        second = services.db_snapshot_capture(now=T0 + MINUTE)
        delta = DbStatementDelta.objects.get(snapshot_id=second, queryid=queryid)
        after = DbStatementCounter.objects.get(queryid=queryid)
        snap = DbSnapshot.objects.get(id=second)
        tables = set(DbTableSnapshot.objects.filter(snapshot_id=second).values_list("table_name", flat=True))
    assert first is not None and second != first
    assert delta.calls == 7 and after.calls == before + 7
    assert delta.total_ms >= 0 and delta.rows == 7
    assert "dbmon_history_probe" in after.query
    assert snap.statement_calls >= 7 and snap.statements_tracked >= 1
    assert snap.connections_used >= 1 and snap.connections_usable > 0 and snap.database_bytes > 0
    assert {"weddings", "monitoring_events", "db_snapshots"} <= tables


def test_a_counter_lower_than_its_baseline_counts_from_zero_and_nothing_is_reset(db):
    with service_context():
        _probe(1)
        services.db_snapshot_capture(now=T0)
        queryid = _probe_queryid()
        # As if pg_stat_statements had been reset (or the entry evicted) since the baseline.
        DbStatementCounter.objects.filter(queryid=queryid).update(calls=10**9)
        before_pgss = _run(PGSS_CALLS, [queryid])[0][0]
        _probe(2)
        snap = services.db_snapshot_capture(now=T0 + MINUTE)
        delta = DbStatementDelta.objects.get(snapshot_id=snap, queryid=queryid)
        after_pgss = _run(PGSS_CALLS, [queryid])[0][0]
    assert delta.calls == after_pgss  # the whole current counter: it restarted
    assert after_pgss >= before_pgss + 2, "pg_stat_statements keeps counting: it was never reset"


def test_a_repeated_snapshot_at_the_same_instant_writes_nothing(db):
    with service_context():
        assert services.db_snapshot_capture(now=T0) is not None
        assert services.db_snapshot_capture(now=T0) is None
        assert DbSnapshot.objects.count() == 1


def test_cleanup_keeps_fourteen_days(db):
    with service_context():
        for days in (20, 15, 13, 1):
            services.db_snapshot_capture(now=T0 - dt.timedelta(days=days))
        deleted = services.db_history_cleanup(now=T0)
        remaining = sorted(DbSnapshot.objects.values_list("taken_at", flat=True))
        orphans = DbTableSnapshot.objects.exclude(snapshot__in=DbSnapshot.objects.all()).count()
    assert remaining == [T0 - dt.timedelta(days=13), T0 - dt.timedelta(days=1)]
    assert deleted > 2 and orphans == 0
    with pytest.raises(ValueError, match="keep_days"):
        services.db_history_cleanup(now=T0, keep_days=0)
    with pytest.raises(ValueError, match="now"):
        services.db_history_cleanup(now=dt.datetime(2026, 6, 13))


def test_snapshot_task_writes_a_snapshot_and_beat_runs_it_every_minute(db):
    snap_id = tasks.snapshot.apply().get()
    with service_context():
        assert DbSnapshot.objects.filter(id=snap_id).exists()
    assert BEAT_SCHEDULE["dbmonitor-snapshot"] == {"task": "dbmonitor.tasks.snapshot", "schedule": 60.0}
    assert BEAT_SCHEDULE["dbmonitor-evaluate-checks"]["schedule"] == 60.0
    assert BEAT_SCHEDULE["dbmonitor-cleanup"]["task"] == "dbmonitor.tasks.cleanup"


def test_trends_give_per_minute_points_with_cache_ratio_and_top_statements(db):
    with service_context():
        for i in range(3):
            _probe(5)
            services.db_snapshot_capture(now=T0 + i * MINUTE)
        trends = selectors.snapshot_trends(now=T0 + 2 * MINUTE, hours=1)
        later = selectors.snapshot_trends(now=T0 + dt.timedelta(hours=3), hours=1)
    points = trends["points"]
    assert [p["taken_at"] for p in points] == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert points[0]["cache_hit_ratio"] is None and points[0]["commits_per_s"] is None
    assert all(0 <= p["cache_hit_ratio"] <= 1 for p in points[1:] if p["cache_hit_ratio"] is not None)
    probe = [q for q in trends["top_statements"] if "dbmon_history_probe" in (q["query"] or "")]
    assert probe and probe[0]["calls"] == 10  # 5 before each of the two later snapshots
    assert later["points"] == [] and later["top_statements"] == []


def test_capture_is_refused_and_history_invisible_outside_a_platform_context(world):
    with service_context():
        services.db_snapshot_capture(now=T0)
        _probe(1)
        services.db_snapshot_capture(now=T0 + MINUTE)
        assert all(_run(f"SELECT count(*) FROM {t}")[0][0] > 0 for t in ("db_snapshots", "db_table_snapshots"))
    for ctx in (vendor_context(world.org_a.id, user_id=world.alice.id), None):
        with ctx if ctx is not None else transaction.atomic():
            for table in HISTORY_TABLES:
                assert _run(f"SELECT count(*) FROM {table}")[0][0] == 0, table
            assert selectors.snapshot_trends(now=T0 + MINUTE) == {"points": [], "top_statements": []}
            assert _run("SELECT cleanup_db_snapshots(%s)", [T0 + dt.timedelta(days=1)])[0][0] == 0
            with pytest.raises(DatabaseError, match="staff or service context"):
                with transaction.atomic():
                    services.db_snapshot_capture(now=T0 + 2 * MINUTE)
    with service_context():
        assert DbSnapshot.objects.count() == 2


def test_line_chart_is_labelled_svg_with_one_dash_pattern_per_series():
    times = [T0 + i * MINUTE for i in range(3)]
    svg = str(
        line_chart(
            title="Connections",
            times=times,
            chart_id="c",
            series=[Series("used", [1, 5, None]), Series("active", [0, 2, 3])],
        )
    )
    assert svg.startswith('<svg role="img" aria-label="Connections: used last 5, max 5; active last 3, max 3"')
    assert "<title>Connections</title>" in svg and svg.count("<path") == 2
    assert 'stroke-dasharray=""' in svg and 'stroke-dasharray="6 3"' in svg
    assert "12:00" in svg and "12:02 UTC" in svg
    empty = str(line_chart(title="Dead <tuples>", times=times[:1], series=[Series("dead", [1])]))
    assert "not enough history yet" in empty and "Dead &lt;tuples&gt;" in empty
