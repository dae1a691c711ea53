"""The portal watches itself: request timings into a Prometheus histogram, sampled points into apm_metrics, /metrics."""

import time

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from apm import conf
from apm.middleware import REQUEST_DURATION, RequestMetricsMiddleware, recorder
from wedsync_ops.tenancy.context import service_context, vendor_context


@pytest.fixture
def watched(settings, monkeypatch, client):
    # Installed first after the health probes (wedsync_ops.health), timing the rest.
    assert settings.MIDDLEWARE[:2] == ["wedsync_ops.health.HealthMiddleware", "apm.middleware.RequestMetricsMiddleware"]
    monkeypatch.setattr(conf, "APM_METRICS_TOKEN", "tok-123")
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer tok-123"
    monkeypatch.setattr(conf, "APM_SELF_SAMPLE_RATE", 1.0)
    monkeypatch.setattr(conf, "APM_SELF_FLUSH_S", 3600.0)
    recorder.take()  # start empty
    yield
    recorder.take()


def _rows(sql):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_sampled_requests_become_points_of_the_portal_service(client, world, watched):
    assert client.get("/api/v1/metrics/").status_code in (401, 405)
    assert client.get("/metrics").status_code == 200
    assert recorder.flush() == 2
    with service_context():
        rows = _rows(
            "SELECT o.slug, m.service, m.metric_name, m.unit, m.tags::text, m.value FROM apm_metrics m"
            " JOIN organizations o ON o.id = m.organization_id ORDER BY m.id"
        )
    assert [r[:4] for r in rows] == [("wedsync-ops", "wedsync-ops", "http.server.duration", "ms")] * 2
    assert '"route": "/api/v1/metrics/"' in rows[0][4] and '"route": "/metrics"' in rows[1][4]
    assert all(r[5] > 0 for r in rows)
    with vendor_context(world.org_a.id):
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]
    assert recorder.flush() == 0


def test_with_a_zero_sample_rate_nothing_is_buffered_but_prometheus_still_counts(client, world, watched, monkeypatch):
    monkeypatch.setattr(conf, "APM_SELF_SAMPLE_RATE", 0.0)
    before = REQUEST_DURATION.labels("GET", "/metrics", "2xx")._sum.get()
    client.get("/metrics")
    assert recorder.take() == []
    assert REQUEST_DURATION.labels("GET", "/metrics", "2xx")._sum.get() > before


def test_metrics_endpoint_exposes_the_request_histogram(client, world, watched):
    client.get("/metrics")
    body = client.get("/metrics").content.decode()
    assert "# TYPE wedsync_ops_http_request_duration_seconds histogram" in body
    assert (
        'wedsync_ops_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/metrics",status="2xx"}'
        in body
    )


def test_metrics_endpoint_requires_the_token_when_one_is_set(client, db, monkeypatch):
    monkeypatch.setattr(conf, "APM_METRICS_TOKEN", "tok-123")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer tok-123").status_code == 200


@pytest.mark.parametrize(
    ("token", "debug", "status"), [(None, False, 403), (None, True, 403), ("", False, 403), ("", True, 200)]
)
def test_metrics_are_closed_without_a_token_unless_it_is_explicitly_empty_in_debug(
    client, db, monkeypatch, settings, token, debug, status
):
    monkeypatch.setattr(conf, "APM_METRICS_TOKEN", token)
    settings.DEBUG = debug
    assert client.get("/metrics").status_code == status


def test_the_middleware_adds_microseconds_not_milliseconds(monkeypatch):
    monkeypatch.setattr(conf, "APM_SELF_SAMPLE_RATE", 0.1)
    monkeypatch.setattr(conf, "APM_SELF_FLUSH_S", 3600.0)
    ok = HttpResponse("ok")
    bare, watched = (lambda request: ok), RequestMetricsMiddleware(lambda request: ok)
    request = RequestFactory().get("/x")
    n = 5000
    started = time.perf_counter()
    for _ in range(n):
        bare(request)
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(n):
        watched(request)
    overhead_us = (time.perf_counter() - started - baseline) / n * 1e6
    recorder.take()
    assert overhead_us < 100, f"{overhead_us:.1f} µs per request"
