"""Service health checks: HTTP probes of a local server, status transitions, history, uptime, the beat task."""

import datetime as dt
import http.server
import threading

import pytest
import time_machine
from django.db import connection

from apm import tasks
from apm.models import ServiceHealthCheck, ServiceHealthResult, ServiceHealthTransition
from apm.selectors import health_check_response_times, health_check_uptime
from apm.services import ProbeResult, health_check_probe, health_check_record, health_checks_claim_due
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context


class Endpoint:
    """A local HTTP endpoint answering ``self.status``; ``self.delay`` (an Event) holds answers back."""

    def __init__(self):
        self.status = 200
        self.hits = 0
        self.hold = threading.Event()
        self.hold.set()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                endpoint.hits += 1
                endpoint.hold.wait(5)
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    e.close()


def _check(world, url, *, org="a", **kwargs):
    organization = {"a": world.org_a, "b": world.org_b, None: None}[org]
    kwargs.setdefault("name", f"payments {org}")
    with service_context():
        return ServiceHealthCheck.objects.create(organization=organization, category="payments", url=url, **kwargs)


def _record(check, ok, at, error=""):
    with service_context():
        return health_check_record(check=check, result=ProbeResult(ok, 200 if ok else 500, 12.5, error), now=at)


def test_a_probe_succeeds_on_the_expected_status_and_fails_otherwise(world, endpoint):
    check = _check(world, endpoint.url)
    ok = health_check_probe(check=check)
    assert ok.ok and ok.status_code == 200 and ok.response_ms > 0 and ok.error == ""
    endpoint.status = 503
    bad = health_check_probe(check=check)
    assert (bad.ok, bad.status_code, bad.error) == (False, 503, "HTTP 503, expected 200")
    down = health_check_probe(check=_check(world, "http://127.0.0.1:9/health"))
    assert not down.ok and down.status_code is None and down.error.startswith("no answer")


def test_a_slow_endpoint_times_out(world, endpoint):
    endpoint.hold.clear()
    result = health_check_probe(check=_check(world, endpoint.url, timeout_seconds=0.2))
    assert (result.ok, result.error) == (False, "timed out after 0.2 s")


def test_status_moves_healthy_warning_critical_and_back_with_transitions(world, endpoint):
    check = _check(world, endpoint.url, failure_threshold=2)
    steps = [(True, "healthy"), (False, "warning"), (False, "critical"), (False, "critical"), (True, "healthy")]
    for minute, (ok, expected) in enumerate(steps):
        check = _record(check, ok, WEDNESDAY + dt.timedelta(minutes=minute), error="" if ok else "HTTP 500")
        assert check.status == expected
    with service_context():
        transitions = list(ServiceHealthTransition.objects.order_by("at").values_list("from_status", "to_status"))
        assert ServiceHealthResult.objects.filter(health_check=check).count() == 5
    assert transitions == [
        ("unknown", "healthy"),
        ("healthy", "warning"),
        ("warning", "critical"),
        ("critical", "healthy"),
    ]
    assert check.consecutive_failures == 0 and check.status_changed_at == WEDNESDAY + dt.timedelta(minutes=4)


def test_maintenance_keeps_its_status_and_is_not_claimed(world, endpoint):
    check = _check(world, endpoint.url, status="maintenance")
    assert _record(check, False, WEDNESDAY).status == "maintenance"
    with service_context():
        assert health_checks_claim_due(now=WEDNESDAY + dt.timedelta(hours=1)) == []


def test_uptime_over_24_hours_7_days_and_30_days(world, endpoint):
    check = _check(world, endpoint.url)
    # 20 days ago: 2 failures; 3 days ago: 1 failure, 1 success; last hours: 3 successes, 1 failure.
    for at, ok in [
        (20 * 24, False),
        (20 * 24 - 1, False),
        (72, False),
        (71, True),
        (3, True),
        (2, True),
        (1, True),
        (0.5, False),
    ]:
        _record(check, ok, WEDNESDAY - dt.timedelta(hours=at))
    _record(check, False, WEDNESDAY - dt.timedelta(days=40))  # outside every window
    with vendor_context(world.org_a.id):
        uptime = health_check_uptime(check_ids=[check.pk], now=WEDNESDAY)[check.pk]
        history = health_check_response_times(check_id=check.pk, since=WEDNESDAY - dt.timedelta(hours=4), now=WEDNESDAY)
    assert uptime == {"24h": 75.0, "7d": pytest.approx(100 * 4 / 6), "30d": 50.0}
    assert [ok for _, _, ok in history] == [True, True, True, False] and history[0][1] == 12.5


def test_a_check_without_runs_has_no_uptime(world, endpoint):
    check = _check(world, endpoint.url)
    with service_context():
        uptime = health_check_uptime(check_ids=[check.pk], now=WEDNESDAY)
    assert uptime == {check.pk: dict.fromkeys(("24h", "7d", "30d"))}


def test_the_beat_task_runs_due_checks_once_per_interval(world, endpoint, settings):
    check = _check(world, endpoint.url, interval_seconds=60)
    platform = _check(world, endpoint.url, org=None, name="email provider", expected_status=204)
    _check(world, endpoint.url, enabled=False, name="off")
    with time_machine.travel(WEDNESDAY, tick=False):
        assert tasks.run_health_checks() == {check.pk: "healthy", platform.pk: "warning"}
        assert tasks.run_health_checks() == {}
    with time_machine.travel(WEDNESDAY + dt.timedelta(seconds=61), tick=False):
        assert set(tasks.run_health_checks()) == {check.pk, platform.pk}
    assert endpoint.hits == 4
    assert "apm.tasks.run_health_checks" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_vendors_see_only_their_own_checks_and_never_platform_ones(world, endpoint):
    mine = _check(world, endpoint.url)
    _check(world, endpoint.url, org="b")
    _check(world, endpoint.url, org=None, name="platform storage")
    _record(mine, True, WEDNESDAY)
    with vendor_context(world.org_a.id):
        assert list(ServiceHealthCheck.objects.values_list("pk", flat=True)) == [mine.pk]
    with vendor_context(world.org_b.id):
        assert not ServiceHealthResult.objects.exists() and not ServiceHealthTransition.objects.exists()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM service_health_checks")
        assert cur.fetchone() == (0,)
