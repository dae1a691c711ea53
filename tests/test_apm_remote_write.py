"""Prometheus remote-write 1.0 ingest: a real Prometheus (Debian's) with ``remote_write`` to the live test server.

Prometheus scrapes itself every second and forwards what it scrapes; the
tests wait (bounded) until its samples are stored and then look at them.
The header checks and the organization label are tested with a body that
the same Prometheus wire format describes (snappy block + WriteRequest).
"""

import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import cramjam
import pytest
from django.db import connection

from apm.remote_write import WriteRequest
from apm.services import api_key_create
from wedsync_ops.tenancy.context import service_context, vendor_context

PROMETHEUS = "/usr/bin/prometheus"
URL = "/api/v1/prometheus/write"
HEADERS = {"HTTP_CONTENT_ENCODING": "snappy", "HTTP_X_PROMETHEUS_REMOTE_WRITE_VERSION": "0.1.0"}


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def keys(transactional_db, world):
    with service_context():
        world.key_a = api_key_create(organization=world.org_a, name="prometheus")[1]
    yield world
    with connection.cursor() as cur:
        cur.execute("TRUNCATE apm_metrics")


@pytest.fixture
def prometheus(live_server, keys, tmp_path):
    """A real Prometheus scraping itself each second, remote-writing to the portal with org A's key."""
    if not Path(PROMETHEUS).exists():
        pytest.fail("Prometheus is not installed: run `apt-get install -y prometheus` (or scripts/peers_apm.sh)")
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="i16-prometheus-"))
    (workdir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  external_labels:\n    organization: rosewood-florals\n"
        f"scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        "remote_write:\n"
        f"  - url: {live_server.url}{URL}\n"
        "    authorization:\n"
        f"      credentials: {keys.key_a}\n"
        "    queue_config:\n      batch_send_deadline: 1s\n      max_samples_per_send: 500\n"
    )
    log = open(workdir / "prometheus.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc, workdir / "prometheus.log"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_samples(proc, log_path, org, *, names: set, timeout_s: float = 45.0) -> dict:
    """Stored (metric -> (service, value, unit, tags, wedding_context)) once every name has arrived (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, f"prometheus exited: {log_path.read_text()[-2000:]}"
        with vendor_context(org.id):
            rows = _rows("SELECT metric_name, service, value, unit, tags, wedding_context FROM apm_metrics")
        found = {
            name: (service, value, unit, json.loads(tags), json.loads(ctx))
            for name, service, value, unit, tags, ctx in rows
        }
        if names <= found.keys():
            return found
        if time.monotonic() > deadline:
            pytest.fail(
                f"remote-write did not deliver {names - found.keys()} within {timeout_s} s; "
                f"prometheus log: {log_path.read_text()[-2000:]}"
            )
        time.sleep(0.3)


def test_a_real_prometheus_remote_writes_its_samples_under_the_key_organization(keys, prometheus):
    proc, log_path = prometheus
    found = _wait_for_samples(proc, log_path, keys.org_a, names={"up", "prometheus_build_info"})

    service, value, unit, tags, context = found["up"]
    assert (service, value, unit) == ("prometheus", 1.0, "")
    assert set(tags) == {"instance"}  # job became the service; the organization label decided the tenant
    assert set(context) == {"is_wedding_day", "is_weekend", "wedding_id"} and context["is_wedding_day"] is False
    assert found["prometheus_build_info"][3]["version"].startswith("2.")
    # Units by Prometheus' naming conventions, e.g. a _seconds histogram's buckets are counts.
    units = {name: row[2] for name, row in found.items()}
    assert units.get("process_cpu_seconds_total") in (None, "s")
    assert all(unit == "count" for name, unit in units.items() if name.endswith("_bucket"))
    with vendor_context(keys.org_b.id):  # the outsider
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def _body(*series) -> bytes:
    request = WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in labels.items():
            ts.labels.add(name=name, value=value)
        for value, ms in samples:
            ts.samples.add(value=value, timestamp=ms)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def _now_ms():
    return int(time.time() * 1000)


def test_the_version_header_content_type_and_encoding_are_checked(keys, client):
    body = _body(({"__name__": "up", "job": "api"}, [(1.0, _now_ms())]))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {keys.key_a}"}
    no_version = {k: v for k, v in HEADERS.items() if "VERSION" not in k}
    cases = [
        (no_version, "application/x-protobuf", "X-Prometheus-Remote-Write-Version must be 0.1.0"),
        ({**HEADERS, "HTTP_X_PROMETHEUS_REMOTE_WRITE_VERSION": "2.0.0"}, "application/x-protobuf", "got '2.0.0'"),
        (HEADERS, "application/json", "Content-Type must be application/x-protobuf"),
        ({**HEADERS, "HTTP_CONTENT_ENCODING": "gzip"}, "application/x-protobuf", "Content-Encoding must be snappy"),
    ]
    for headers, content_type, reason in cases:
        response = client.post(URL, data=body, content_type=content_type, **headers, **auth)
        assert response.status_code == 400 and reason in response.content.decode(), response.content
    response = client.post(URL, data=b"\x10not snappy", content_type="application/x-protobuf", **HEADERS, **auth)
    assert response.status_code == 400 and b"not snappy-compressed" in response.content
    assert client.post(URL, data=body, content_type="application/x-protobuf", **HEADERS).status_code == 401
    with service_context():
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def test_samples_of_another_organization_nan_and_bad_series_are_left_out(keys, client):
    now = _now_ms()
    body = _body(
        ({"__name__": "http_requests_total", "job": "api", "route": "/pay"}, [(5.0, now - 1000), (7.0, now)]),
        ({"__name__": "http_requests_total", "job": "api", "organization": "bloom-and-vine"}, [(1.0, now)]),
        (
            {"__name__": "queue_depth", "service": "mailer", "organization": "rosewood-florals"},
            [(float("nan"), now), (3.0, now)],
        ),
        ({"job": "api"}, [(1.0, now)]),
    )
    response = client.post(
        URL, data=body, content_type="application/x-protobuf", **HEADERS, HTTP_AUTHORIZATION=f"Bearer {keys.key_a}"
    )
    assert response.status_code == 204
    assert response["X-Wedsync-Rejected-Samples"] == "2"
    assert "names another organization" in response["X-Wedsync-Rejected-Reasons"]
    assert "needs a __name__" in response["X-Wedsync-Rejected-Reasons"]
    with vendor_context(keys.org_a.id):
        rows = _rows("SELECT metric_name, service, value, unit, tags FROM apm_metrics ORDER BY metric_name, value")
    assert [(*row[:4], json.loads(row[4])) for row in rows] == [
        ("http_requests_total", "api", 5.0, "count", {"route": "/pay"}),
        ("http_requests_total", "api", 7.0, "count", {"route": "/pay"}),
        ("queue_depth", "mailer", 3.0, "", {}),
    ]


def test_a_request_whose_every_sample_is_rejected_is_a_400(keys, client):
    body = _body(({"__name__": "up", "job": "api"}, [(1.0, _now_ms() - 100 * 86400 * 1000)]))
    response = client.post(
        URL, data=body, content_type="application/x-protobuf", **HEADERS, HTTP_AUTHORIZATION=f"Bearer {keys.key_a}"
    )
    assert response.status_code == 400 and b"every sample was rejected" in response.content
