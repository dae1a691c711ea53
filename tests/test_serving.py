"""The web as deployed: gunicorn with gunicorn.conf.py, /metrics summed over its workers, JSON access log lines."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.processes import app_env, free_port, start_gunicorn, stop, wait_until


@pytest.fixture
def served(transactional_db, tmp_path):
    """gunicorn with two sync workers on a free port, multiprocess metrics in a private directory."""
    port = free_port()
    env = app_env(APM_METRICS_TOKEN="scrape-token", PROMETHEUS_MULTIPROC_DIR=tmp_path / "prom")
    log = tmp_path / "gunicorn.log"
    proc = start_gunicorn(env, port=port, workers=2, log_path=log)
    yield f"http://127.0.0.1:{port}", log, tmp_path / "prom"
    stop(proc)


def _count(metrics_text: str, route: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith("wedsync_ops_http_request_duration_seconds_count{") and f'route="{route}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.slow
def test_metrics_sum_every_gunicorn_worker_and_need_the_token(served):
    url, _log, prom_dir = served
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{url}/accounts/login/", timeout=10).status_code, range(40)))
    assert statuses == [200] * 40
    assert requests.get(f"{url}/metrics", timeout=10).status_code == 401
    scraped = requests.get(f"{url}/metrics", headers={"Authorization": "Bearer scrape-token"}, timeout=10)
    assert scraped.status_code == 200
    assert _count(scraped.text, "/accounts/login/") == 40  # every worker's requests, whichever answers the scrape
    workers = {path.stem.rsplit("_", 1)[1] for path in prom_dir.glob("histogram_*.db")}
    assert len(workers) == 2, workers


@pytest.mark.slow
def test_gunicorn_logs_json_lines_and_the_health_endpoints_answer_without_a_host_check(served):
    url, log, _prom = served
    assert requests.get(f"{url}/health/live", timeout=5).json() == {"status": "ok"}
    # A load balancer probes by IP: an unknown Host header still gets the probe answered.
    ready = requests.get(f"{url}/health/ready", headers={"Host": "10.1.2.3:8000"}, timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["status"] == "ok"
    assert requests.get(f"{url}/accounts/login/?token=wsi_leakedsecret123", timeout=5).status_code == 200
    expected = {"/health/live", "/health/ready", "/accounts/login/?token=[redacted]"}

    def records():
        return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    # gunicorn writes an access line just after the response has gone out: wait for it (bounded).
    wait_until(lambda: expected <= {r.get("path") for r in records()}, timeout=10, what="the access lines")
    access = [r for r in records() if r.get("logger") == "gunicorn.access"]
    assert all({"timestamp", "status", "duration_ms", "method"} <= r.keys() for r in access)
    assert "wsi_leakedsecret123" not in log.read_text()
    assert any(r.get("event") == "request_finished" and r.get("request_id") for r in records())  # django-structlog
