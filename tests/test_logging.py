"""Logs: one JSON object per line with request, user, organization and task ids; secrets never written."""

import io
import json
import logging

import pytest
import structlog

from wedsync_ops.logconfig import json_formatter, redact_text


@pytest.fixture
def log_lines():
    """Every record of the root logger, through the portal's formatter, as parsed JSON lines."""
    spec = dict(json_formatter())
    factory = spec.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**spec))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    structlog.contextvars.clear_contextvars()


def test_a_vendor_request_logs_request_user_and_organization_ids(transactional_db, world, client, log_lines):
    # transactional_db: the request runs in its own transaction, as served (no outer test transaction).
    client.force_login(world.alice)
    assert client.get(f"/org/{world.org_a.slug}/").status_code == 200
    finished = [r for r in log_lines() if r["event"] == "request_finished"]
    assert len(finished) == 1
    line = finished[0]
    assert line["user_id"] == world.alice.pk and line["organization_id"] == str(world.org_a.id)
    assert len(line["request_id"]) == 36 and line["code"] == 200 and line["level"] == "info"
    assert line["timestamp"].endswith("Z")


def test_integration_tokens_and_passwords_never_reach_a_line(world, client, log_lines):
    token = "wsi_" + "S3cr3tT0ken" * 3
    client.post(
        "/api/v1/integrations/alertmanager/",
        data=b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    logging.getLogger("wedsync_ops.test").warning("connecting to postgres://app:hunter2@db:5432/x with %s", token)
    structlog.get_logger("wedsync_ops.test").info(
        "channel saved",
        password="hunter2",
        api_key="abc123456",
        config={"url": "https://h/?token=abc123456", "auth_token": "x1"},
    )
    text = json.dumps(log_lines())
    for secret in (token, "hunter2", "abc123456", '"x1"'):
        assert secret not in text
    assert "postgres://app:[redacted]@db:5432/x" in text


def test_redaction_keeps_ordinary_words():
    assert redact_text("token expired for 3 integrations") == "token expired for 3 integrations"
    assert redact_text("Authorization: Bearer abcdef123456") == "Authorization: Bearer [redacted]"


@pytest.mark.slow
def test_a_worker_logs_json_lines_with_the_task_id(transactional_db, tmp_path):
    import redis

    from tests.conftest import TEST_BROKER
    from tests.processes import app_env, start_worker, stop, wait_until
    from wedsync_ops.celery import app

    redis.Redis.from_url(TEST_BROKER).flushdb()
    log = tmp_path / "worker.log"
    worker = start_worker(app_env(), queues="default", name="logtest", log_path=log)
    try:
        result = app.send_task("alerts.tasks.apply_suppressions", queue="default")

        def finished():
            lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
            return [x for x in lines if x.get("event") == "task_succeeded" and x.get("task_id") == result.id]

        done = wait_until(finished, timeout=60, what="the worker's task_succeeded line", proc=worker)
        assert done[0]["level"] == "info" and done[0]["logger"].startswith("django_structlog")
        lines = log.read_text().splitlines()
        assert all(line.startswith("{") for line in lines if line.strip()), lines[:5]
    finally:
        stop(worker)
