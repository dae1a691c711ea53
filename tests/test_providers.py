"""APM provider configurations: encrypted credentials, key rotation, polling, failure counting and alerts.

Prometheus is polled for real (Debian package ``prometheus``, started here on
a loopback port, scraping itself); the other providers are a local HTTP
server answering in their documented formats and recording the requests.
"""

import datetime as dt
import http.server
import io
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests
import time_machine
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from alerts.models import AlertHistory
from apm import tasks
from apm.crypto import decrypt_credentials
from apm.models import ApmConfiguration
from apm.services import (
    apm_configuration_create,
    apm_configuration_fetch,
    apm_configuration_record_poll,
    apm_configurations_claim_due,
)
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

SECRET = "s3cr3t-token-value-0123456789"
PROMETHEUS = "/usr/bin/prometheus"


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


# --- a local provider ----------------------------------------------------------------------------


class Provider:
    """A local HTTP server: ``answers[path] = (status, json body)``; ``requests`` records what came in."""

    def __init__(self):
        self.answers: dict[str, tuple[int, object]] = {}
        self.requests: list[dict] = []
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = urllib.parse.urlsplit(self.path).path
                provider.requests.append(
                    {
                        "method": self.command,
                        "path": path,
                        "query": dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)),
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                status, payload = provider.answers.get(path, (404, {"error": "no such path"}))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.close()


def _config(world, provider_url, kind, *, query="", credentials=None, **kwargs):
    with service_context():
        return apm_configuration_create(
            organization=world.org_a,
            name=f"{kind} source",
            provider=kind,
            base_url=provider_url,
            service="checkout-api",
            query=query,
            credentials=credentials or {},
            **kwargs,
        )


def _poll(config, now=WEDNESDAY):
    """Fetch and record one poll as the task does; returns (stored, error)."""
    from apm.providers import ProviderError

    try:
        points, error = apm_configuration_fetch(configuration=config, now=now), None
    except ProviderError as exc:
        points, error = None, str(exc)
    with service_context():
        stored = apm_configuration_record_poll(configuration=config, now=now, points=points, error=error)
    return stored, error


def _metrics(org):
    with vendor_context(org.id):
        return _rows("SELECT service, metric_name, value, unit, tags::text, recorded_at FROM apm_metrics ORDER BY id")


# --- credentials at rest ------------------------------------------------------------------------------


def test_credentials_are_encrypted_at_rest_and_never_in_the_raw_column(world, provider):
    config = _config(world, provider.url, "datadog", credentials={"api_key": SECRET, "app_key": "app-" + SECRET})
    with service_context():
        (raw,) = _rows("SELECT credentials_encrypted FROM apm_configurations WHERE id = %s", [config.pk])[0]
        (row_text,) = _rows("SELECT row_to_json(c)::text FROM apm_configurations c WHERE id = %s", [config.pk])[0]
    assert raw.startswith("gAAAAA") and SECRET not in raw and SECRET not in row_text
    assert decrypt_credentials(raw) == {"api_key": SECRET, "app_key": "app-" + SECRET}
    assert SECRET not in repr(config) and SECRET not in str(config)


def test_keys_rotate_and_reencrypt_credentials_moves_every_row_to_the_newest_key(world, provider, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    configs = [_config(world, provider.url, "pingdom", credentials={"token": f"{SECRET}-{i}"}) for i in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = [new, old]  # the new key first: both decrypt
    out = io.StringIO()
    call_command("reencrypt_credentials", "--batch-size", "2", stdout=out)
    assert "re-encrypted 2/3" in out.getvalue() and "re-encrypted 3/3" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key removed
    with service_context():
        for i, config in enumerate(configs):
            config.refresh_from_db()
            assert decrypt_credentials(config.credentials_encrypted) == {"token": f"{SECRET}-{i}"}


def test_reencrypt_fails_cleanly_when_no_key_decrypts(world, provider, monkeypatch, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    _config(world, provider.url, "pingdom", credentials={"token": SECRET})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted") as exc:
        call_command("reencrypt_credentials", stdout=io.StringIO())
    assert SECRET not in str(exc.value)


def test_undecryptable_credentials_make_a_failed_poll_without_leaking_anything(world, provider, monkeypatch, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    config = _config(world, provider.url, "pingdom", query="1", credentials={"token": SECRET})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    stored, error = _poll(config)
    assert stored == 0 and "cannot be decrypted" in error and SECRET not in error
    assert provider.requests == []


def test_a_configuration_is_validated_field_by_field(world):
    with service_context(), pytest.raises(ValidationError) as exc:
        apm_configuration_create(
            organization=world.org_a,
            name="",
            provider="zabbix",
            base_url="ftp://x",
            service="",
            poll_interval_seconds=1,
        )
    assert set(exc.value.message_dict) == {"name", "provider", "base_url", "service", "poll_interval_seconds"}


def test_another_organization_sees_no_configuration(world, provider):
    _config(world, provider.url, "custom")
    with vendor_context(world.org_b.id):
        assert not ApmConfiguration.objects.exists()
    assert _rows("SELECT count(*) FROM apm_configurations") == [(0,)]  # no context


# --- providers in their documented formats ---------------------------------------------------------------


def test_datadog_series_query_stores_the_last_point_of_each_series(world, provider):
    provider.answers["/api/v1/query"] = (
        200,
        {
            "status": "ok",
            "series": [
                {
                    "metric": "trace.http.request.duration",
                    "scope": "service:checkout,env:prod",
                    "pointlist": [[1781092740000.0, 0.21], [1781092800000.0, 0.25], [1781092810000.0, None]],
                }
            ],
        },
    )
    config = _config(
        world,
        provider.url,
        "datadog",
        query="avg:trace.http.request.duration{service:checkout}",
        credentials={"api_key": SECRET, "app_key": "app"},
    )
    assert _poll(config) == (1, None)
    (request,) = provider.requests
    assert request["headers"]["DD-API-KEY"] == SECRET and request["headers"]["DD-APPLICATION-KEY"] == "app"
    assert request["query"]["query"].startswith("avg:trace")
    assert int(request["query"]["to"]) == int(WEDNESDAY.timestamp())
    ((service, name, value, _unit, tags, at),) = _metrics(world.org_a)
    assert (service, name, value, at) == (
        "checkout-api",
        "trace.http.request.duration",
        0.25,
        dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC),
    )
    assert json.loads(tags) == {"service": "checkout", "env": "prod"}


def test_newrelic_nrql_results_become_one_point_per_numeric_field(world, provider):
    provider.answers["/graphql"] = (
        200,
        {
            "data": {
                "actor": {
                    "account": {
                        "nrql": {
                            "results": [
                                {
                                    "average.duration": 0.42,
                                    "count": 1200,
                                    "beginTimeSeconds": 1781092740,
                                    "endTimeSeconds": 1781092800,
                                }
                            ]
                        }
                    }
                }
            }
        },
    )
    config = _config(
        world,
        provider.url,
        "newrelic",
        query="SELECT average(duration), count(*) FROM Transaction",
        credentials={"api_key": SECRET, "account_id": 1234567},
    )
    assert _poll(config) == (2, None)
    (request,) = provider.requests
    assert request["method"] == "POST" and request["headers"]["API-Key"] == SECRET
    assert "account(id: 1234567)" in json.loads(request["body"])["query"]
    assert [(m[1], m[2]) for m in _metrics(world.org_a)] == [("average.duration", 0.42), ("count", 1200.0)]


def test_pingdom_check_gives_up_and_response_time(world, provider):
    provider.answers["/api/3.1/checks/85975"] = (
        200,
        {
            "check": {
                "id": 85975,
                "name": "Checkout",
                "status": "down",
                "lastresponsetime": 355,
                "lasttesttime": 1781092800,
            }
        },
    )
    config = _config(world, provider.url, "pingdom", query="85975", credentials={"token": SECRET})
    assert _poll(config) == (2, None)
    assert provider.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert [(m[1], m[2], m[3]) for m in _metrics(world.org_a)] == [
        ("pingdom.up", 0.0, ""),
        ("pingdom.response_time", 355.0, "ms"),
    ]


def test_uptime_robot_monitors_give_up_and_average_response_time(world, provider):
    provider.answers["/v2/getMonitors"] = (
        200,
        {
            "stat": "ok",
            "monitors": [{"id": 777, "friendly_name": "Gallery", "status": 2, "average_response_time": "123.4"}],
        },
    )
    config = _config(world, provider.url, "uptime_robot", query="777", credentials={"api_key": SECRET})
    assert _poll(config) == (2, None)
    form = dict(urllib.parse.parse_qsl(provider.requests[0]["body"]))
    assert form == {"api_key": SECRET, "format": "json", "monitors": "777"}
    assert [(m[1], m[2]) for m in _metrics(world.org_a)] == [
        ("uptime_robot.up", 1.0),
        ("uptime_robot.response_time", 123.4),
    ]


def test_grafana_proxies_the_prometheus_query_api(world, provider):
    provider.answers["/api/datasources/proxy/uid/prom1/api/v1/query"] = (
        200,
        {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": {"__name__": "up", "job": "node"}, "value": [1781092800, "1"]},
                    {"metric": {"job": "gone"}, "value": [1781092800, "NaN"]},
                ],
            },
        },
    )
    config = _config(
        world, provider.url + "/api/datasources/proxy/uid/prom1", "grafana", query="up", credentials={"token": SECRET}
    )
    assert _poll(config) == (1, None)
    assert [(m[1], m[2], json.loads(m[4])) for m in _metrics(world.org_a)] == [("up", 1.0, {"job": "node"})]


def test_custom_endpoint_answers_in_the_ingest_format(world, provider):
    provider.answers["/metrics.json"] = (200, {"metrics": [{"name": "queue.depth", "value": 7}]})
    config = _config(world, provider.url + "/metrics.json", "custom")
    assert _poll(config) == (1, None)
    assert [(m[0], m[1], m[2]) for m in _metrics(world.org_a)] == [("checkout-api", "queue.depth", 7.0)]


# --- failures, alerts, scheduling --------------------------------------------------------------------------


def test_failures_are_counted_and_alert_once_after_n_then_success_resolves(world, provider):
    provider.answers["/api/3.1/checks/1"] = (503, {"error": {"message": "maintenance"}})
    config = _config(world, provider.url, "pingdom", query="1", credentials={"token": SECRET}, alert_after_failures=2)
    assert _poll(config) == (0, f"HTTP 503 from 127.0.0.1:{provider.server.server_port}: maintenance")
    with service_context():
        config.refresh_from_db()
        assert (config.consecutive_failures, AlertHistory.objects.count()) == (1, 0)
    _poll(config, WEDNESDAY + dt.timedelta(minutes=1))
    _poll(config, WEDNESDAY + dt.timedelta(minutes=2))
    with service_context():
        config.refresh_from_db()
        (alert,) = AlertHistory.objects.all()
    assert config.consecutive_failures == 3 and "HTTP 503" in config.last_error and SECRET not in config.last_error
    assert alert.organization_id == world.org_a.id and alert.status == "firing" and "failing" in alert.title

    provider.answers["/api/3.1/checks/1"] = (200, {"check": {"name": "c", "status": "up", "lastresponsetime": 90}})
    assert _poll(config, WEDNESDAY + dt.timedelta(minutes=3)) == (2, None)
    with service_context():
        config.refresh_from_db()
        alert.refresh_from_db()
    assert (config.consecutive_failures, config.last_error, alert.status) == (0, "", "resolved")


def test_a_provider_that_is_down_or_answers_garbage_is_a_failure(world, provider):
    provider.answers["/api/v1/query"] = (200, {"status": "error", "error": "bad query"})
    config = _config(world, provider.url, "datadog", query="x")
    assert "bad query" in _poll(config)[1]
    down = _config(world, "http://127.0.0.1:9", "custom")
    assert "could not reach 127.0.0.1:9" in _poll(down)[1]


def test_only_due_enabled_configurations_are_claimed_once(world, provider):
    a = _config(world, provider.url, "custom", poll_interval_seconds=60)
    b = _config(world, provider.url, "custom", poll_interval_seconds=300)
    _config(world, provider.url, "custom", enabled=False)
    with service_context():
        assert apm_configurations_claim_due(now=WEDNESDAY) == [a.pk, b.pk]
        assert apm_configurations_claim_due(now=WEDNESDAY + dt.timedelta(seconds=30)) == []
        assert apm_configurations_claim_due(now=WEDNESDAY + dt.timedelta(seconds=60)) == [a.pk]


def test_the_poll_task_polls_due_configurations_and_is_scheduled(world, provider, settings):
    provider.answers["/m"] = (200, {"metrics": [{"name": "jobs", "value": 3}]})
    config = _config(world, provider.url + "/m", "custom")
    with time_machine.travel(WEDNESDAY, tick=False):
        assert tasks.poll_providers() == {config.pk: 1}
        assert tasks.poll_providers() == {}
    assert "apm.tasks.poll_providers" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


# --- a real Prometheus ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prometheus_server():
    if not Path(PROMETHEUS).exists():
        pytest.fail("Prometheus is not installed: run `apt-get install -y prometheus` (or scripts/peers_apm.sh)")
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="i3-prometheus-"))
    (workdir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # bounded wait for the first scrape to be queryable
            assert proc.poll() is None, "prometheus exited early"
            try:
                body = requests.get(f"{url}/api/v1/query", params={"query": "up"}, timeout=1).json()
                if body["data"]["result"]:
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("Prometheus did not answer a query within 30 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_real_prometheus_is_polled_through_its_query_api(world, prometheus_server):
    now = dt.datetime.now(dt.UTC)
    config = _config(world, prometheus_server, "prometheus", query='up or prometheus_build_info{job="prometheus"}')
    stored, error = _poll(config, now)
    assert (stored, error) == (2, None)
    rows = {m[1]: (m[2], json.loads(m[4])) for m in _metrics(world.org_a)}
    assert rows["up"] == (1.0, {"job": "prometheus", "instance": prometheus_server.removeprefix("http://")})
    assert rows["prometheus_build_info"][0] == 1.0
    assert rows["prometheus_build_info"][1]["version"].startswith("2.")


def test_a_bad_promql_query_is_a_failure_with_prometheus_own_message(world, prometheus_server):
    config = _config(world, prometheus_server, "prometheus", query="up{")
    stored, error = _poll(config, dt.datetime.now(dt.UTC))
    assert stored == 0 and error.startswith("HTTP 400") and "parse error" in error


# --- admin ----------------------------------------------------------------------------------------------


def test_admin_never_shows_credentials_and_replaces_them_write_only(client, world, provider):
    from django.contrib.auth.models import Permission

    config = _config(world, provider.url, "pingdom", query="1", credentials={"token": SECRET})
    with service_context():
        world.staff.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_apmconfiguration", "change_apmconfiguration"])
        )
    client.force_login(world.staff)
    page = client.get(f"/admin/apm/apmconfiguration/{config.pk}/change/")
    listing = client.get("/admin/apm/apmconfiguration/")
    assert page.status_code == listing.status_code == 200
    with service_context():
        token = ApmConfiguration.objects.get(pk=config.pk).credentials_encrypted
    for html in (page.content.decode(), listing.content.decode()):
        assert SECRET not in html and token not in html
    form = {
        "organization": world.org_a.pk,
        "name": "pingdom source",
        "provider": "pingdom",
        "base_url": provider.url,
        "query": "1",
        "service": "checkout-api",
        "enabled": "on",
        "poll_interval_seconds": 60,
        "timeout_seconds": 5,
        "alert_after_failures": 3,
        "new_credentials": '{"token": "rotated-' + SECRET + '"}',
    }
    response = client.post(f"/admin/apm/apmconfiguration/{config.pk}/change/", form)
    assert response.status_code == 302
    with service_context():
        config.refresh_from_db()
    assert decrypt_credentials(config.credentials_encrypted) == {"token": "rotated-" + SECRET}
    url = f"/admin/apm/apmconfiguration/{config.pk}/change/"
    bad = client.post(url, dict(form, new_credentials="not json " + SECRET))
    assert bad.status_code == 200 and SECRET not in bad.content.decode()


def test_vendors_get_nothing_from_the_configuration_admin(client, world, provider):
    config = _config(world, provider.url, "custom")
    client.force_login(world.alice)
    assert client.get(f"/admin/apm/apmconfiguration/{config.pk}/change/").status_code in (302, 403)
