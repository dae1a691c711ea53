"""/health/live and /health/ready: JSON for load balancers, each dependency reported, no secrets, 503 when required."""

import datetime as dt
import json

import pytest
import redis
import time_machine
from health_check.exceptions import ServiceUnavailable
from redbeat.decoder import RedBeatJSONEncoder

from tests.conftest import TEST_BROKER
from wedsync_ops import health
from wedsync_ops.health import JobRun, stale_jobs

NOW = dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC)


def fresh_runs(*, now):
    return [JobRun("incidents-escalate-due", now - dt.timedelta(seconds=30), 60.0)]


@pytest.fixture
def beat_ok(settings):
    settings.HEALTH_BEAT_RUNS_SOURCE = "tests.test_health.fresh_runs"


def test_live_answers_without_any_dependency(client):  # no db fixture: a query would fail the test
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_reports_each_dependency_as_json(transactional_db, client, beat_ok):
    response = client.get("/health/ready")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "broker", "beat"}
    assert all(c["status"] == "ok" and c["time_ms"] >= 0 for c in body["checks"].values())
    assert body["checks"]["database"]["required"] is True


def test_redis_and_broker_down_degrade_without_leaking_the_url(transactional_db, client, settings, beat_ok):
    from wedsync_ops.celery import app

    settings.REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"
    previous = app.conf.broker_url
    app.conf.broker_url, app._pool = "redis://:hunter2@127.0.0.1:1/0", None
    try:
        response = client.get("/health/ready")
    finally:
        app.conf.broker_url, app._pool = previous, None
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded"  # the web still takes alerts
    assert body["checks"]["redis"]["status"] == "fail" and body["checks"]["broker"]["status"] == "fail"
    assert "hunter2" not in response.content.decode() and "127.0.0.1:1" not in body["checks"]["broker"]["error"]


def test_a_required_check_failing_answers_503(transactional_db, client, settings, beat_ok):
    settings.HEALTH_READY_REQUIRED = ["database", "redis"]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/ready")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"


def test_the_database_check_refuses_a_role_that_is_not_the_application_role(
    transactional_db, client, settings, beat_ok
):
    settings.DB_APP_ROLE = "someone_else"
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert "not the application role" in response.json()["checks"]["database"]["error"]


def test_a_job_is_stale_past_twice_its_period():
    runs = [
        JobRun("a", NOW - dt.timedelta(seconds=119), 60),
        JobRun("b", NOW - dt.timedelta(seconds=121), 60),
        JobRun("c", None, 60),
    ]
    assert stale_jobs(runs, now=NOW) == ["beat job b last ran 121 s ago (period 60 s)", "beat job c never ran"]


def test_beat_liveness_reads_redbeat_lock_and_last_runs(settings):
    client = redis.Redis.from_url(TEST_BROKER)
    prefix, lock = "wedsync-test-health:", "wedsync-test-health::lock"
    schedule = {
        "fast": {"task": "x", "schedule": 10.0},
        "daily": settings.CELERY_BEAT_SCHEDULE["apm-cleanup-monitoring-data"],
    }
    client.delete(lock)
    with pytest.raises(ServiceUnavailable, match="no beat process holds the scheduler lock"):
        health.redbeat_state_runs(client, key_prefix=prefix, lock_key=lock, schedule=schedule, now=NOW)
    client.set(lock, "token", ex=30)
    try:
        for name, last in (("fast", NOW - dt.timedelta(seconds=25)), ("daily", NOW - dt.timedelta(hours=30))):
            client.hset(prefix + name, "meta", json.dumps({"last_run_at": last}, cls=RedBeatJSONEncoder))
        runs = {
            r.name: r
            for r in health.redbeat_state_runs(client, key_prefix=prefix, lock_key=lock, schedule=schedule, now=NOW)
        }
        assert runs["fast"].period_s == 10 and runs["daily"].period_s == 86400
        assert stale_jobs(runs.values(), now=NOW) == ["beat job fast last ran 25 s ago (period 10 s)"]
    finally:
        client.delete(lock, prefix + "fast", prefix + "daily")


def test_beat_liveness_reads_the_heartbeats_job_runs_by_default(transactional_db, client, settings):
    from tests.test_job_runs import record_all_runs

    assert settings.HEALTH_BEAT_RUNS_SOURCE == "wedsync_ops.health.heartbeat_job_runs"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    record_all_runs(now - dt.timedelta(seconds=5))
    with time_machine.travel(now, tick=False):
        assert client.get("/health/ready").json()["checks"]["beat"]["status"] == "ok"
    with time_machine.travel(now + dt.timedelta(minutes=3), tick=False):
        response = client.get("/health/ready")
    beat = response.json()["checks"]["beat"]
    assert response.status_code == 200 and beat["status"] == "fail" and beat["required"] is False
    assert "beat job alerts-evaluate-rules last ran 185 s ago (period 60 s)" in beat["error"]
