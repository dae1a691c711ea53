"""The ping API, as healthchecks.io's: paths, answers, bodies, unknown uuids, rate limits, and a real curl."""

import datetime as dt
import subprocess
import uuid

import pytest
import redis
import time_machine

from heartbeats import conf
from heartbeats.models import HeartbeatCheck, HeartbeatPing
from heartbeats.services import check_create
from tests.conftest import WEDNESDAY, redis_db_url
from wedsync_ops.tenancy.context import service_context

RATE_REDIS = redis_db_url(11)


@pytest.fixture(autouse=True)
def ping_limiter(monkeypatch):
    """The ping limiter on a private Redis database, emptied for each test."""
    redis.Redis.from_url(RATE_REDIS).flushdb()
    monkeypatch.setattr(conf, "PING_RATE_REDIS_URL", RATE_REDIS)
    yield
    redis.Redis.from_url(RATE_REDIS).flushdb()


@pytest.fixture
def check(world):
    with service_context():
        return check_create(
            organization_id=world.org_a.id, name="Invoice run", now=WEDNESDAY, period_s=3600, grace_s=600
        )


def pings(check):
    with service_context():
        return list(HeartbeatPing.objects.filter(heartbeat_check=check).order_by("n"))


def current(check):
    with service_context():
        return HeartbeatCheck.objects.get(pk=check.pk)


@pytest.mark.parametrize("method", ["get", "post", "head"])
def test_a_success_ping_answers_ok_in_plain_text_and_marks_the_check_up(client, check, method):
    response = getattr(client, method)(f"/ping/{check.ping_uuid}")
    assert response.status_code == 200
    if method != "head":
        assert response.content == b"OK"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Ping-Body-Limit"] == "10000"
    assert current(check).status == "up"
    (p,) = pings(check)
    assert (p.kind, p.method, p.n, p.via) == ("success", method.upper(), 1, "http")


def test_no_login_and_no_csrf_token_are_needed(check):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(f"/ping/{check.ping_uuid}", data=b"x", content_type="text/plain")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("suffix", "kind", "exit_status", "status"),
    [
        ("/start", "start", None, "new"),
        ("/fail", "fail", None, "down"),
        ("/log", "log", None, "new"),
        ("/0", "success", 0, "up"),
        ("/1", "fail", 1, "down"),
        ("/255", "fail", 255, "down"),
        ("/", "success", None, "up"),
    ],
)
def test_each_path_records_its_kind(client, check, suffix, kind, exit_status, status):
    assert client.post(f"/ping/{check.ping_uuid}{suffix}").content == b"OK"
    (p,) = pings(check)
    assert (p.kind, p.exit_status) == (kind, exit_status)
    assert current(check).status == status


def test_the_body_is_kept_up_to_ten_kilobytes_as_the_pings_log(client, check):
    body = ("backup done: 1,204 files\n" + "x" * 20_000).encode()
    client.post(f"/ping/{check.ping_uuid}", data=body, content_type="text/plain")
    (p,) = pings(check)
    assert p.body.startswith("backup done: 1,204 files\n") and len(p.body.encode()) == 10_000
    assert p.body_bytes == len(body)


def test_a_body_that_is_not_utf8_is_kept_with_replacements(client, check):
    client.post(f"/ping/{check.ping_uuid}/fail", data=b"err\xff\x00or", content_type="application/octet-stream")
    assert pings(check)[0].body == "err\ufffdor"


def test_start_and_end_with_the_same_rid_measure_the_run(client, check):
    rid = uuid.uuid4()
    with time_machine.travel(WEDNESDAY, tick=False):
        client.get(f"/ping/{check.ping_uuid}/start?rid={rid}")
    with time_machine.travel(WEDNESDAY + dt.timedelta(seconds=42), tick=False):
        client.get(f"/ping/{check.ping_uuid}?rid={rid}")
    assert current(check).last_duration_ms == 42_000 and pings(check)[1].duration_ms == 42_000


def test_an_unknown_uuid_answers_404_and_stores_nothing(client, check):
    for path in (f"/ping/{uuid.uuid4()}", f"/ping/{uuid.uuid4()}/fail", "/ping/not-a-uuid", "/ping/"):
        response = client.post(path, data=b"hello", content_type="text/plain")
        assert (response.status_code, response.content) == (404, b"not found"), path
    with service_context():
        assert HeartbeatPing.objects.count() == 0
    assert current(check).n_pings == 0


@pytest.mark.parametrize(("path", "message"), [("/256", b"invalid url format"), ("?rid=nope", b"invalid uuid format")])
def test_bad_exit_status_or_rid_answers_400_and_stores_nothing(client, check, path, message):
    response = client.get(f"/ping/{check.ping_uuid}{path}")
    assert (response.status_code, response.content) == (400, message)
    assert pings(check) == []


def test_watchdog_checks_cannot_be_pinged_over_http(client, world):
    from alerts.services import integration_create
    from heartbeats.services import watchdog_ping

    with service_context():
        integration, _token = integration_create(kind="alertmanager", name="prod")
        watchdog_ping(integration=integration, status="firing", now=WEDNESDAY)
        watchdog = HeartbeatCheck.objects.get(watchdog_integration=integration)
    assert client.get(f"/ping/{watchdog.ping_uuid}").status_code == 404


def test_more_pings_than_the_limit_answer_429_with_retry_after_and_store_nothing(client, check, monkeypatch):
    monkeypatch.setattr(conf, "PING_RATE_PER_MINUTE", 3)
    statuses = [client.get(f"/ping/{check.ping_uuid}").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get(f"/ping/{check.ping_uuid}")
    assert int(refused["Retry-After"]) >= 1 and b"rate limit of 3 pings per minute" in refused.content
    assert len(pings(check)) == 3


def test_a_broken_limiter_lets_pings_through(client, check, monkeypatch):
    monkeypatch.setattr(conf, "PING_RATE_PER_MINUTE", 1)
    monkeypatch.setattr(conf, "PING_RATE_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    assert [client.get(f"/ping/{check.ping_uuid}").status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.django_db(transaction=True)
def test_a_real_curl_pings_a_live_server_like_a_crontab_line_would(live_server):
    from wedsync_ops.tenancy.models import Organization

    with service_context():
        org = Organization.objects.create(slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London")
        check = check_create(organization_id=org.id, name="Nightly backup", now=WEDNESDAY, period_s=86400, grace_s=3600)
    url = f"{live_server.url}/ping/{check.ping_uuid}"
    ok = subprocess.run(["curl", "-fsS", "-m", "10", "--retry", "5", url], capture_output=True, text=True, timeout=30)
    assert (ok.returncode, ok.stdout) == (0, "OK")
    fail = subprocess.run(
        ["curl", "-fsS", "-m", "10", "--data-raw", "pg_dump: error: connection refused", f"{url}/2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (fail.returncode, fail.stdout) == (0, "OK")
    missing = subprocess.run(
        ["curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", f"{live_server.url}/ping/{uuid.uuid4()}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.stdout == "404"
    with service_context():
        assert HeartbeatCheck.objects.get(pk=check.pk).status == "down"
        kinds = list(HeartbeatPing.objects.filter(heartbeat_check=check).order_by("n").values_list("kind", "body"))
    assert kinds == [("success", ""), ("fail", "pg_dump: error: connection refused")]
    assert ok.stderr == ""
