"""Inbound rate limits count alerts, and a payload over the limit is parked and ingested in order, never lost.

The limiter's counters live in a private Redis database (12); the backlog
drain is called as the worker's task calls it.
"""

import json
import threading

import pytest
from limits.errors import ConfigurationError

from alerts import conf
from alerts.integrations import ratelimit
from alerts.integrations.backlog import MAX_ATTEMPTS, integration_backlog_drain
from alerts.integrations.ratelimit import integration_rate_check
from alerts.models import AlertHistory, IntegrationBacklog
from tests.conftest import SAMPLES_DIR
from tests.test_integrations_inbound import RATE_REDIS, make_integration, post
from wedsync_ops.tenancy.context import service_context, vendor_context

FIRING = (SAMPLES_DIR / "alertmanager/captured-0.25-firing.json").read_bytes()
RESOLVED = (SAMPLES_DIR / "alertmanager/captured-0.25-resolved.json").read_bytes()
GRAFANA_TWO = (SAMPLES_DIR / "grafana/firing-two-alerts.json").read_bytes()


@pytest.fixture(autouse=True)
def private_rate_limit_redis(monkeypatch):
    monkeypatch.setattr(conf, "INTEGRATION_RATE_LIMIT_REDIS_URL", RATE_REDIS)


def webhook_alerts(n, prefix="storm"):
    return {"alerts": [{"title": f"{prefix} {i}", "labels": {"instance": f"{prefix}-{i}"}} for i in range(n)]}


def backlog():
    with service_context():
        return list(IntegrationBacklog.objects.order_by("id"))


def test_default_is_at_least_oncalls_300_alerts_per_5_minutes_counted_in_alerts(world):
    assert conf.INTEGRATION_RATE_LIMIT_ALERTS >= 300 and conf.INTEGRATION_RATE_LIMIT_WINDOW_S == 300
    _integration, token = make_integration("webhook", config={"alerts": "alerts"})
    assert post("webhook/", webhook_alerts(300), token).status_code == 200  # one post of 300 alerts: inline
    over = post("webhook/", webhook_alerts(1, "late"), token)
    assert over.status_code == 202 and over.json() == {"received": 1, "created": 0, "resolved": 0, "queued": 1}
    with service_context():
        assert AlertHistory.objects.count() == 300
    assert [entry.alerts for entry in backlog()] == [1]


def test_a_post_counts_its_alerts_and_once_one_is_parked_the_next_queue_behind_it(world):
    integration, token = make_integration("grafana", rate_limit_alerts=3)
    assert post("grafana/", GRAFANA_TWO, token).status_code == 200  # 2 of 3
    assert post("grafana/", GRAFANA_TWO, token).status_code == 202  # 4 > 3: parked
    _other, other_token = make_integration("grafana", rate_limit_alerts=3)
    assert post("grafana/", GRAFANA_TWO, other_token).status_code == 200  # limits are per integration
    # One alert would fit (3 of 3), but it must not overtake the parked payload.
    single = json.loads(GRAFANA_TWO)
    single["alerts"] = single["alerts"][:1]
    assert post("grafana/", single, token).status_code == 202
    assert [(e.integration_id, e.alerts) for e in backlog()] == [(integration.pk, 2), (integration.pk, 1)]


def test_parked_firing_and_resolution_are_ingested_in_order_and_nothing_is_lost(world):
    _integration, token = make_integration("alertmanager", rate_limit_alerts=1)
    other, other_token = make_integration("webhook", config={"alerts": ""}, rate_limit_alerts=1)
    assert post("alertmanager/", FIRING, token).status_code == 200
    assert post("alertmanager/", FIRING, token).status_code == 202  # redelivery, parked
    assert post("alertmanager/", RESOLVED, token).status_code == 202
    assert post("webhook/", {"title": "disk full"}, other_token).status_code == 200
    assert post("webhook/", {"title": "disk fuller"}, other_token).status_code == 202
    assert integration_backlog_drain() == {"ingested": 3, "failed": 0, "dropped": 0, "busy": 0}
    assert backlog() == []
    with service_context():
        rows = {(a.title, a.status) for a in AlertHistory.objects.all()}
        assert AlertHistory.objects.get(source="alertmanager").status == "resolved"  # not re-fired by the redelivery
    assert {"disk full", "disk fuller"} <= {title for title, _status in rows}
    assert other.pk  # both integrations drained in one run


def test_a_full_backlog_answers_503_with_retry_after_and_keeps_nothing_twice(world, monkeypatch):
    monkeypatch.setattr(conf, "INTEGRATION_BACKLOG_MAX", 1)
    _integration, token = make_integration("alertmanager", rate_limit_alerts=1)
    assert post("alertmanager/", FIRING, token).status_code == 200
    assert post("alertmanager/", RESOLVED, token).status_code == 202
    full = post("alertmanager/", RESOLVED, token)
    assert full.status_code == 503 and int(full["Retry-After"]) == conf.INTEGRATION_RATE_LIMIT_WINDOW_S
    assert len(backlog()) == 1


def test_a_payload_that_keeps_failing_is_retried_then_dropped_without_blocking_the_rest(world, monkeypatch):
    _integration, token = make_integration("alertmanager", rate_limit_alerts=1)
    post("alertmanager/", FIRING, token)
    post("alertmanager/", RESOLVED, token)
    post("alertmanager/", FIRING, token)
    first = backlog()[0]
    with service_context():
        IntegrationBacklog.objects.filter(pk=first.pk).update(body=b'{"version": "3"}')  # unreadable now
    for attempt in range(1, MAX_ATTEMPTS):
        assert integration_backlog_drain()["failed"] == 1
        assert backlog()[0].attempts == attempt and "PayloadError" in backlog()[0].last_error
    assert integration_backlog_drain() == {"ingested": 1, "failed": 1, "dropped": 1, "busy": 0}
    assert backlog() == []


def test_parked_payloads_are_their_organizations_only(world):
    _integration, token = make_integration("alertmanager", org=world.org_a, rate_limit_alerts=1)
    post("alertmanager/", FIRING, token)
    assert post("alertmanager/", RESOLVED, token).status_code == 202
    with vendor_context(world.org_b.id):
        assert IntegrationBacklog.objects.count() == 0
    with vendor_context(world.org_a.id):
        assert IntegrationBacklog.objects.count() == 1


def test_the_limiter_fails_open_when_redis_is_down_or_it_raises(world, monkeypatch):
    integration, _token = make_integration("webhook", rate_limit_alerts=1)
    for _ in range(3):
        decision = integration_rate_check(integration=integration, alerts=5, url="redis://127.0.0.1:1/0")
        assert decision.allowed and decision.failed_open

    def broken(*args, **kwargs):
        raise ConfigurationError("'redis' prerequisite not available. Found version: 0.0.0")

    monkeypatch.setattr(ratelimit, "_limiters", {})
    monkeypatch.setattr(ratelimit, "storage_from_string", broken)
    decision = integration_rate_check(integration=integration)
    assert decision.allowed and decision.failed_open


def test_the_limiter_is_built_once_by_concurrent_first_requests(world, monkeypatch):
    integration, _token = make_integration("webhook", rate_limit_alerts=1000)
    built, real = [], ratelimit.storage_from_string
    entered = threading.Event()

    def slow_build(*args, **kwargs):
        built.append(threading.get_ident())
        entered.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(ratelimit, "_limiters", {})
    monkeypatch.setattr(ratelimit, "storage_from_string", slow_build)
    start, decisions = threading.Barrier(16), []

    def first_request():
        start.wait()
        decisions.append(integration_rate_check(integration=integration))

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(built) == 1 and entered.is_set()
    assert len(decisions) == 16 and all(d.allowed and not d.failed_open for d in decisions)
