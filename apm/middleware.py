"""The portal watches itself: request timings as Prometheus metrics and as sampled APM points.

Add ``"apm.middleware.RequestMetricsMiddleware"`` first in ``MIDDLEWARE``
(so it times everything after it). Per request it costs one histogram
observation and one ``random()`` call; the sampled share
(``APM_SELF_SAMPLE_RATE``) is appended to an in-process buffer that a
daemon thread writes with one COPY every ``APM_SELF_FLUSH_S`` seconds (or
at ``APM_SELF_FLUSH_POINTS`` points): no request waits for the database.
Points: service ``wedsync-ops``, metric ``http.server.duration`` (ms),
tags ``method``, ``route`` (the URL pattern, never the raw path: ids would
explode cardinality) and ``status`` (e.g. ``2xx``), filed under the
organization ``APM_SELF_ORGANIZATION_SLUG``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time

from prometheus_client import Histogram

from . import conf

log = logging.getLogger(__name__)

SELF_SERVICE = "wedsync-ops"
SELF_METRIC = "http.server.duration"

REQUEST_DURATION = Histogram(
    "wedsync_ops_http_request_duration_seconds",
    "Time the portal took to answer a request, by method, URL pattern and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class SampleRecorder:
    """A thread-safe buffer of sampled request timings, written in batches by ``flush``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._points: list[tuple[dt.datetime, float, dict]] = []
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self.dropped = 0

    def add(self, *, at: dt.datetime, duration_ms: float, tags: dict) -> None:
        with self._lock:
            if len(self._points) >= 20 * conf.APM_SELF_FLUSH_POINTS:  # the database is away: keep memory bounded
                self.dropped += 1
                return
            self._points.append((at, duration_ms, tags))
            full = len(self._points) >= conf.APM_SELF_FLUSH_POINTS
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="apm-self-metrics", daemon=True)
                self._thread.start()
        if full:
            self._wake.set()

    def _run(self) -> None:
        from django.db import close_old_connections, connection

        while True:
            self._wake.wait(conf.APM_SELF_FLUSH_S)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001  (a metrics flush must never kill the thread)
                log.exception("could not write the portal's own request metrics")
            finally:
                close_old_connections()
                connection.close()

    def take(self) -> list[tuple[dt.datetime, float, dict]]:
        with self._lock:
            points, self._points = self._points, []
        return points

    def flush(self) -> int:
        """Write the buffered points (service context, one COPY); returns how many."""
        from wedsync_ops.tenancy.context import service_context
        from wedsync_ops.tenancy.models import Organization

        from .services import MetricRow, metrics_copy

        points = self.take()
        if not points:
            return 0
        with service_context():
            org, _ = Organization.objects.get_or_create(
                slug=conf.APM_SELF_ORGANIZATION_SLUG,
                defaults={"name": "WedSync Ops (the portal itself)", "timezone": "UTC"},
            )
            rows = [MetricRow(org.id, SELF_SERVICE, SELF_METRIC, ms, at, "ms", tags) for at, ms, tags in points]
            return metrics_copy(rows=rows)


recorder = SampleRecorder()


# RFC 9110's methods (and PATCH, RFC 5789); any other method is counted as "other", so a client
# inventing methods cannot grow the histogram's label sets without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def method_label(method: str | None) -> str:
    """``method`` when it is a standard HTTP method, else ``"other"`` (bounded label cardinality)."""
    return method if method in KNOWN_METHODS else "other"


class RequestMetricsMiddleware:
    """Time every request into REQUEST_DURATION; buffer a sample of them as APM points (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = ("/" + match.route) if match is not None and match.route else "unmatched"
        status = f"{response.status_code // 100}xx"
        method = method_label(request.method)
        REQUEST_DURATION.labels(method, route, status).observe(elapsed)
        if random.random() < conf.APM_SELF_SAMPLE_RATE:
            recorder.add(
                at=dt.datetime.now(dt.UTC),
                duration_ms=elapsed * 1000,
                tags={"method": method, "route": route[:200], "status": status},
            )
        return response
