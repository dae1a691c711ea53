"""Histogram points: quantiles from buckets (Prometheus' histogram_quantile rules), incremental aggregation, retention.

``apm_histogram_quantiles`` is checked against values worked out by hand
from Prometheus' bucketQuantile (promql/quantile.go): the rank q·count is
found in the cumulative counts and interpolated linearly in its bucket; the
lowest bucket starts at 0 when its upper bound is positive; a rank in the
+Inf bucket answers the highest finite bound.
"""

import datetime as dt
import json
import math

import pytest
from django.db import DatabaseError, connection, transaction

from apm.histograms import histograms_copy
from apm.otlp import HistogramPoint
from apm.services import metrics_aggregate, monitoring_data_cleanup
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

INF = math.inf


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def _quantiles(lowers, uppers, counts, qs, lo=None, hi=None):
    with service_context():
        [(result,)] = _rows(
            "SELECT apm_histogram_quantiles(%s::float8[], %s::float8[], %s::float8[], %s::float8[], %s, %s)",
            [[float(x) for x in v] for v in (lowers, uppers, counts, qs)] + [lo, hi],
        )
    return result


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        # (0,10]: 10, (10,20]: 10 — rank 10 of 20 is the top of the first bucket.
        (([-INF, 10], [10, 20], [10, 10]), 0.5, 10.0),
        # rank 15: halfway through (10, 20].
        (([-INF, 10], [10, 20], [10, 10]), 0.75, 15.0),
        # rank 19 in the +Inf bucket: the highest finite bound.
        (([-INF, 10], [10, INF], [10, 10]), 0.95, 10.0),
        # The lowest bucket with a negative upper bound answers that bound.
        (([-INF, -5], [-5, 0], [4, 4]), 0.25, -5.0),
        # No observation: no quantile.
        (([-INF], [INF], [0]), 0.5, None),
    ],
)
def test_quantiles_follow_prometheus_bucket_quantile(db, buckets, q, expected):
    lowers, uppers, counts = buckets
    result = _quantiles(lowers, uppers, counts, [q])
    assert result == (None if expected is None else [expected])


def test_known_min_and_max_bound_the_open_buckets_and_clamp(db):
    # All 10 observations lie in (-inf, 100]: Prometheus would assume 0..100; with min 40 it is 40..100.
    assert _quantiles([-INF], [100], [10], [0.5], lo=40, hi=90) == [70.0]
    # The +Inf bucket with a known max interpolates up to it instead of stopping at 100.
    assert _quantiles([-INF, 100], [100, INF], [10, 10], [0.75], lo=1, hi=300) == [200.0]


def _point(org, at, *, counts, bounds=(-INF, 100, 200, INF), temporality="delta", start=None, **kw):
    return HistogramPoint(
        organization_id=org,
        service="checkout",
        metric_name="latency",
        unit="ms",
        tags_json=json.dumps(kw.pop("tags", {})),
        recorded_at=at,
        start_at=start,
        temporality=temporality,
        count=sum(counts),
        sum=kw.pop("sum", 0.0),
        min=kw.pop("min", None),
        max=kw.pop("max", None),
        bounds=list(bounds),
        counts=list(counts),
    )


def test_points_of_one_bucket_merge_and_a_new_point_reaggregates_only_its_bucket(world):
    org = world.org_a.id
    at = WEDNESDAY - dt.timedelta(minutes=10)
    with vendor_context(org):
        histograms_copy(
            points=[
                _point(org, at, counts=[50, 0, 0], sum=2500),
                _point(org, at + dt.timedelta(seconds=20), counts=[0, 50, 0], sum=7500),
            ]
        )
    with service_context():
        assert metrics_aggregate(bucket_seconds=60) == 1
        [(count, total, p50, p95)] = _rows("SELECT count, sum, p50, p95 FROM apm_metric_aggregations")
        assert (count, total, p50, p95) == (100, 10000.0, 100.0, 190.0)
        assert metrics_aggregate(bucket_seconds=60) == 0  # nothing new, nothing rewritten
    with vendor_context(org):
        histograms_copy(points=[_point(org, at + dt.timedelta(seconds=30), counts=[0, 100, 0], sum=15000)])
    with service_context():
        assert metrics_aggregate(bucket_seconds=60) == 1
        # 50 in (-inf, 100], 150 in (100, 200]: rank 100 is 50/150 of the way through the second bucket.
        [(count, p50)] = _rows("SELECT count, p50 FROM apm_metric_aggregations")
        assert count == 200 and p50 == pytest.approx(100 + 100 * 50 / 150)


def test_a_cumulative_series_seen_long_after_its_start_is_only_a_baseline(world):
    org = world.org_a.id
    start = WEDNESDAY - dt.timedelta(days=3)
    at = WEDNESDAY - dt.timedelta(minutes=5)
    with vendor_context(org):
        histograms_copy(points=[_point(org, at, counts=[900, 100, 0], temporality="cumulative", start=start)])
        histograms_copy(
            points=[
                _point(org, at + dt.timedelta(minutes=1), counts=[905, 100, 1], temporality="cumulative", start=start)
            ]
        )
        rows = _rows("SELECT count, counts, cumulative_count FROM apm_metric_histograms ORDER BY recorded_at")
    # Three days of observations are not put into one minute: the first point only sets the baseline.
    assert rows == [(0, [0, 0, 0], 1000), (6, [5, 0, 1], 1006)]


def test_a_decrease_without_a_new_start_time_is_a_reset(world):
    org = world.org_a.id
    start = WEDNESDAY - dt.timedelta(minutes=30)
    at = WEDNESDAY - dt.timedelta(minutes=5)
    with vendor_context(org):
        histograms_copy(
            points=[
                _point(org, at, counts=[10, 0, 0], temporality="cumulative", start=start),
                _point(org, at + dt.timedelta(seconds=30), counts=[3, 0, 0], temporality="cumulative", start=start),
            ]
        )
        assert _rows("SELECT count FROM apm_metric_histograms ORDER BY recorded_at") == [(10,), (3,)]


def test_histograms_are_tenant_rows_and_kept_90_days(world):
    org = world.org_a.id
    with vendor_context(org):
        histograms_copy(
            points=[
                _point(org, WEDNESDAY - dt.timedelta(days=91), counts=[1, 0, 0]),
                _point(org, WEDNESDAY - dt.timedelta(days=1), counts=[1, 0, 0]),
            ]
        )
    with vendor_context(world.org_b.id):
        assert _rows("SELECT count(*) FROM apm_metric_histograms") == [(0,)]
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            histograms_copy(points=[_point(org, WEDNESDAY, counts=[1, 0, 0])])
    with service_context():
        monitoring_data_cleanup(now=WEDNESDAY)
        assert _rows("SELECT count(*) FROM apm_metric_histograms") == [(1,)]
