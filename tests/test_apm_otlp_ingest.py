"""OTLP/HTTP metrics ingest, sent by the OpenTelemetry SDK's own exporter to the live test server.

The payloads are the SDK's: ``OTLPMetricExporter`` (protobuf over HTTP,
gzip) pointed at ``live_server``; JSON bodies and the partial-success cases
start from the SDK's own encoding of real measurements (``encode_metrics``)
before one point is made invalid.
"""

import contextlib
import datetime as dt
import gzip
import json

import pytest
import requests
from django.db import connection
from django.utils import timezone
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource

from apm.services import api_key_create, metrics_aggregate
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

PROTOBUF = "application/x-protobuf"
BOUNDS = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


@pytest.fixture
def keys(transactional_db, world):
    """API keys of both organizations; the tables the test flush leaves alone (raw SQL ones) emptied afterwards."""
    with service_context():
        world.key_a = api_key_create(organization=world.org_a, name="otel")[1]
        world.key_b = api_key_create(organization=world.org_b, name="otel")[1]
    yield world
    with connection.cursor() as cur:
        cur.execute("TRUNCATE apm_metrics, apm_metric_histograms, apm_aggregation_watermarks")


def _provider(reader, *, service="checkout-api", exponential=False):
    aggregation = (
        ExponentialBucketHistogramAggregation(max_size=160)
        if exponential
        else ExplicitBucketHistogramAggregation(boundaries=BOUNDS)
    )
    return MeterProvider(
        resource=Resource.create({"service.name": service, "service.version": "1.4.2"}),
        metric_readers=[reader],
        views=[View(instrument_name="*duration*", aggregation=aggregation)],
    )


@contextlib.contextmanager
def _exporting(url, key, **kwargs):
    """A MeterProvider whose reader exports on force_flush(), with the SDK's OTLP/HTTP exporter (gzip) to ``url``.

    Shut down on leaving the block (its final export then sends one more,
    unchanged, cumulative point per series): read what was stored inside it.
    """
    exporter = OTLPMetricExporter(
        endpoint=url, headers={"Authorization": f"Bearer {key}"}, compression=Compression.Gzip, timeout=10
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = _provider(reader, **kwargs)
    try:
        yield provider
    finally:
        provider.shutdown()


def _measure(meter, durations=range(1, 1001)):
    """Record 1..1000 ms on a histogram, 3 requests on a counter, a queue depth of 7 on a gauge."""
    histogram = meter.create_histogram("http.server.duration", unit="ms")
    for ms in durations:
        histogram.record(ms, {"http.route": "/pay", "http.status_code": 200})
    meter.create_counter("http.server.requests").add(3, {"http.route": "/pay"})
    gauge = meter.create_gauge("queue.depth")
    gauge.set(7, {"queue": "emails"})
    return histogram


def _sdk_request(*, durations=range(1, 1001), service="checkout-api"):
    """The ExportMetricsServiceRequest the SDK would send for ``_measure`` (its own encoder)."""
    reader = InMemoryMetricReader()
    provider = _provider(reader, service=service)
    _measure(provider.get_meter("tests"), durations)
    request = encode_metrics(reader.get_metrics_data())
    provider.shutdown()
    return request


def _by_name(org):
    with vendor_context(org.id):
        points = _rows("SELECT metric_name, service, value, unit, tags::text, wedding_context::text FROM apm_metrics")
        histograms = _rows(
            "SELECT metric_name, service, temporality, count, sum, min, max, bounds, counts,"
            " tags::text, wedding_context::text FROM apm_metric_histograms ORDER BY id"
        )
    return (
        {
            name: (service, value, unit, json.loads(tags), json.loads(ctx))
            for name, service, value, unit, tags, ctx in points
        },
        histograms,
    )


def test_the_sdk_exporter_stores_gauges_sums_and_histograms_under_the_resource_service(keys, live_server):
    today = timezone.now().astimezone(keys.org_a.tz).date()
    with service_context():
        wedding = Wedding.objects.create(organization=keys.org_a, wedding_date=today, couple_name="Ana & Ben")
    with _exporting(f"{live_server.url}/v1/metrics", keys.key_a) as provider:
        _measure(provider.get_meter("checkout"))
        assert provider.force_flush(timeout_millis=10_000)
        points, histograms = _by_name(keys.org_a)
    context = {"is_wedding_day": True, "is_weekend": today.isoweekday() >= 6, "wedding_id": str(wedding.id)}
    assert points == {
        "http.server.requests": ("checkout-api", 3.0, "", {"http.route": "/pay"}, context),
        "queue.depth": ("checkout-api", 7.0, "", {"queue": "emails"}, context),
    }
    [(name, service, temporality, count, total, low, high, bounds, counts, tags, ctx)] = histograms
    assert (name, service, temporality, count, total, low, high) == (
        "http.server.duration",
        "checkout-api",
        "cumulative",
        1000,
        500500.0,
        1.0,
        1000.0,
    )
    assert bounds == [float("-inf"), *map(float, BOUNDS), float("inf")]
    assert counts == [0, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0]
    assert json.loads(tags) == {"http.route": "/pay", "http.status_code": "200"}
    assert json.loads(ctx) == context
    with vendor_context(keys.org_b.id):  # the outsider
        assert _rows("SELECT count(*) FROM apm_metric_histograms") == [(0,)]
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def test_a_cumulative_histogram_is_stored_as_the_difference_to_its_previous_export(keys, live_server):
    with _exporting(f"{live_server.url}/api/v1/otlp/v1/metrics", keys.key_a) as provider:
        histogram = _measure(provider.get_meter("checkout"), durations=range(1, 101))
        assert provider.force_flush(timeout_millis=10_000)
        for ms in (950, 960, 970):
            histogram.record(ms, {"http.route": "/pay", "http.status_code": 200})
        assert provider.force_flush(timeout_millis=10_000)
        _, histograms = _by_name(keys.org_a)
    first, second = histograms
    assert (first[3], first[4], first[8][:3]) == (100, 5050.0, [0, 100, 0])
    # Only the three new observations; min and max of a cumulative point span the whole series: not kept.
    assert (second[3], second[4], second[5], second[6]) == (3, 2880.0, None, None)
    assert second[8] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0]


def test_histogram_quantiles_follow_prometheus_linear_interpolation_in_aggregation(keys, live_server):
    with _exporting(f"{live_server.url}/v1/metrics", keys.key_a) as provider:
        _measure(provider.get_meter("checkout"))
        assert provider.force_flush(timeout_millis=10_000)
    # The shutdown's final export added a zero-count point: aggregation ignores it.
    with service_context():
        metrics_aggregate(bucket_seconds=60)
        stats = _rows(
            "SELECT count, sum, min, max, avg, p50, p95, p99 FROM apm_metric_aggregations"
            " WHERE metric_name = 'http.server.duration'"
        )
        points = _rows("SELECT recorded_at, count, temporality, start_at FROM apm_metric_histograms ORDER BY id")
    assert len(stats) == 1, points
    [stats] = stats
    # 100 observations per 100-ms bucket: rank 950 of 1000 lies halfway… exactly at 950 in (900, 1000].
    assert stats == (1000, 500500.0, 1.0, 1000.0, 500.5, 500.0, 950.0, 990.0)


def test_exponential_histograms_aggregate_to_quantiles_within_their_bucket_width(keys, live_server):
    with _exporting(f"{live_server.url}/v1/metrics", keys.key_a, exponential=True) as provider:
        _measure(provider.get_meter("checkout"))
        assert provider.force_flush(timeout_millis=10_000)
        with service_context():
            [(bounds, counts)] = _rows("SELECT bounds, counts FROM apm_metric_histograms")
    with service_context():
        metrics_aggregate(bucket_seconds=60)
        [(count, low, high, p50, p95, p99)] = _rows(
            "SELECT count, min, max, p50, p95, p99 FROM apm_metric_aggregations"
            " WHERE metric_name = 'http.server.duration'"
        )
    assert sum(counts) == 1000 and len(bounds) == len(counts) + 1 and bounds == sorted(bounds)
    # 160 buckets over 1..1000: base 2^(2^-4) ≈ 1.044, so an estimate is within ~4.4% of the truth.
    assert (count, low, high) == (1000, 1.0, 1000.0)
    for estimate, true in ((p50, 500), (p95, 950), (p99, 990)):
        assert abs(estimate - true) / true < 0.045, (estimate, true)


def test_the_json_encoding_is_accepted_and_answered_in_json(keys, client):
    body = json_format.MessageToJson(_sdk_request())
    response = client.post(
        "/v1/metrics", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {keys.key_a}"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == {}
    points, histograms = _by_name(keys.org_a)
    assert set(points) == {"http.server.requests", "queue.depth"} and len(histograms) == 1


def test_partial_success_rejects_only_the_bad_points_and_says_why(keys, client):
    request = _sdk_request()
    metrics = {m.name: m for m in request.resource_metrics[0].scope_metrics[0].metrics}
    old = timezone.now() - dt.timedelta(days=100)
    metrics["queue.depth"].gauge.data_points[0].time_unix_nano = int(old.timestamp() * 1e9)
    metrics["http.server.requests"].sum.data_points[0].attributes[0].value.string_value = "x" * 300
    response = client.post(
        "/v1/metrics",
        data=gzip.compress(request.SerializeToString()),
        content_type=PROTOBUF,
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION=f"Bearer {keys.key_a}",
    )

    assert response.status_code == 200 and response["Content-Type"] == PROTOBUF
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 2
    assert "older than the 90-day retention" in answer.partial_success.error_message
    assert "at most 200 characters" in answer.partial_success.error_message
    points, histograms = _by_name(keys.org_a)
    assert points == {} and len(histograms) == 1


def test_nanosecond_times_are_truncated_to_microseconds_and_each_attribute_set_keeps_its_tags(keys, client):
    # Points either side of a UTC midnight (both daily partitions), one, two and no attributes: the
    # tag cache keys one attribute by its bytes and several by a tuple, and must never mix them up.
    request = _sdk_request()
    gauge = {m.name: m for m in request.resource_metrics[0].scope_metrics[0].metrics}["queue.depth"].gauge
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    midnight_ns = int(midnight.timestamp()) * 10**9
    gauge.data_points[0].time_unix_nano = midnight_ns - 1  # 23:59:59.999999999
    for value, ns, attributes in (
        (8, midnight_ns + 1_999, {"queue": "emails"}),  # 00:00:00.000001999
        (9, midnight_ns + 2_000, {"queue": "emails", "region": "eu"}),
        (10, midnight_ns + 3_500, {"region": "eu"}),
        (11, midnight_ns + 4_001, {}),
    ):
        point = gauge.data_points.add(time_unix_nano=ns, as_int=value)
        for key, text in attributes.items():
            point.attributes.add(key=key).value.string_value = text
    response = client.post(
        "/v1/metrics",
        data=request.SerializeToString(),
        content_type=PROTOBUF,
        HTTP_AUTHORIZATION=f"Bearer {keys.key_a}",
    )
    assert response.status_code == 200 and ExportMetricsServiceResponse.FromString(response.content).ByteSize() == 0
    with vendor_context(keys.org_a.id):
        rows = _rows(
            "SELECT value, recorded_at, tags::text, tableoid::regclass::text FROM apm_metrics"
            " WHERE metric_name = 'queue.depth' ORDER BY value"
        )
    us = dt.timedelta(microseconds=1)
    day = f"apm_metrics_{midnight:%Y%m%d}"
    previous_day = f"apm_metrics_{midnight - dt.timedelta(days=1):%Y%m%d}"
    assert [(v, at, json.loads(tags), part) for v, at, tags, part in rows] == [
        (7.0, midnight - us, {"queue": "emails"}, previous_day),
        (8.0, midnight + us, {"queue": "emails"}, day),
        (9.0, midnight + 2 * us, {"queue": "emails", "region": "eu"}, day),
        (10.0, midnight + 3 * us, {"region": "eu"}, day),
        (11.0, midnight + 4 * us, {}, day),
    ]


def test_summaries_are_rejected_and_points_without_a_value_skipped(keys, client):
    request = _sdk_request()
    scope = request.resource_metrics[0].scope_metrics[0]
    summary = scope.metrics.add(name="rpc.latency")
    summary.summary.data_points.add(time_unix_nano=int(timezone.now().timestamp() * 1e9), count=1, sum=2.0)
    [gauge] = [m for m in scope.metrics if m.name == "queue.depth"]
    gauge.gauge.data_points[0].flags = 1  # DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
    response = client.post(
        "/v1/metrics",
        data=request.SerializeToString(),
        content_type=PROTOBUF,
        HTTP_AUTHORIZATION=f"Bearer {keys.key_a}",
    )
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 1
    assert "Summary points are not stored" in answer.partial_success.error_message
    assert set(_by_name(keys.org_a)[0]) == {"http.server.requests"}


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "reason"),
    [
        (b"\x0a\xff\xff", PROTOBUF, "", "not an ExportMetricsServiceRequest in protobuf"),
        (b'{"resourceMetrics": 3}', "application/json", "", "not an ExportMetricsServiceRequest in JSON"),
        (b"not gzip", PROTOBUF, "gzip", "not valid gzip"),
        (b"x", PROTOBUF, "br", "Content-Encoding 'br' is not supported"),
    ],
)
def test_a_body_that_does_not_decode_is_a_400_status_and_stores_nothing(
    keys, client, body, content_type, encoding, reason
):
    response = client.post(
        "/v1/metrics",
        data=body,
        content_type=content_type,
        HTTP_CONTENT_ENCODING=encoding,
        HTTP_AUTHORIZATION=f"Bearer {keys.key_a}",
    )
    assert response.status_code == 400
    if content_type == PROTOBUF:
        status = status_pb2.Status.FromString(response.content)
        message = status.message
    else:
        message = response.json()["message"]
    assert reason in message
    assert _by_name(keys.org_a) == ({}, [])


def test_another_content_type_is_415_and_no_key_is_401(keys, client, live_server):
    assert (
        client.post(
            "/v1/metrics", data="x", content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {keys.key_a}"
        ).status_code
        == 415
    )
    body = _sdk_request().SerializeToString()
    assert (
        requests.post(
            f"{live_server.url}/v1/metrics", data=body, headers={"Content-Type": PROTOBUF}, timeout=10
        ).status_code
        == 401
    )
    assert (
        requests.post(
            f"{live_server.url}/v1/metrics",
            data=body,
            timeout=10,
            headers={"Content-Type": PROTOBUF, "Authorization": "Bearer wso_not-a-key"},
        ).status_code
        == 401
    )


def test_the_key_decides_the_organization(keys, client):
    body = _sdk_request(service="storefront").SerializeToString()
    assert (
        client.post(
            "/v1/metrics", data=body, content_type=PROTOBUF, HTTP_AUTHORIZATION=f"Bearer {keys.key_b}"
        ).status_code
        == 200
    )
    assert _by_name(keys.org_a) == ({}, [])
    points, histograms = _by_name(keys.org_b)
    assert {service for service, *_ in points.values()} == {"storefront"} and len(histograms) == 1
    # Bloom & Vine's context is of its own local date (Sydney).
    sydney_today = timezone.now().astimezone(keys.org_b.tz).date()
    assert points["queue.depth"][3:] == (
        {"queue": "emails"},
        {"is_wedding_day": False, "is_weekend": sydney_today.isoweekday() >= 6, "wedding_id": None},
    )
