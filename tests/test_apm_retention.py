"""Partition retention: daily apm_metrics partitions past 90 days are dropped whole by a beat job."""

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, connection

from apm import tasks
from apm.services import MetricRow, metrics_copy, metrics_drop_expired_partitions
from wedsync_ops.tenancy.context import service_context, vendor_context

NOW = dt.datetime(2026, 9, 10, 2, 0, tzinfo=dt.UTC)  # retention cutoff: 2026-06-12 02:00 UTC


def _partitions():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'apm_metrics'::regclass ORDER BY 1"
        )
        return [r[0] for r in cur.fetchall()]


@pytest.fixture
def old_partitions(world):
    with service_context():
        with connection.cursor() as cur:
            cur.execute("SELECT apm_ensure_metric_partitions('2026-06-09', '2026-06-13')")
        for day in (9, 10, 11, 12, 13):
            at = dt.datetime(2026, 6, day, 12, 0, tzinfo=dt.UTC)
            metrics_copy(rows=[MetricRow(world.org_a.id, "svc", "m", float(day), at)])
    return world


def test_partitions_whose_whole_day_is_past_retention_are_dropped(old_partitions):
    with service_context():
        assert metrics_drop_expired_partitions(now=NOW) == 3
        names = _partitions()
        with connection.cursor() as cur:
            cur.execute("SELECT value FROM apm_metrics ORDER BY value")
            kept = [r[0] for r in cur.fetchall()]
    assert not {"apm_metrics_20260609", "apm_metrics_20260610", "apm_metrics_20260611"} & set(names)
    # 2026-06-12 holds rows younger than 90 days (after 02:00): kept whole.
    assert {"apm_metrics_20260612", "apm_metrics_20260613"} <= set(names)
    assert kept == [12.0, 13.0]
    with service_context():
        assert metrics_drop_expired_partitions(now=NOW) == 0


def test_the_beat_task_drops_expired_partitions(old_partitions):
    with time_machine.travel(NOW, tick=False):
        assert tasks.drop_expired_partitions() == 3


def test_the_retention_job_is_scheduled(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "apm.tasks.drop_expired_partitions" in scheduled


@pytest.mark.parametrize("ctx", ["vendor", "none"])
def test_only_a_platform_context_may_drop_partitions(old_partitions, ctx):
    with pytest.raises(DatabaseError, match="staff or service"):
        if ctx == "vendor":
            with vendor_context(old_partitions.org_a.id):
                metrics_drop_expired_partitions(now=NOW)
        else:
            metrics_drop_expired_partitions(now=NOW)
    assert "apm_metrics_20260609" in _partitions()
