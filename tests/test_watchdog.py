"""Dead man's switch: Alertmanager's always-firing Watchdog alert (kube-prometheus) feeds a heartbeat check.

The Watchdog is not stored as an ordinary (forever firing) alert: each
arrival pings the integration's Watchdog check; when it stops arriving for
period + grace the check goes down and a critical alert fires; a resolved
Watchdog is down at once. The last test drives a real Alertmanager (Debian's
prometheus-alertmanager and amtool) against the live test server.
"""

import datetime as dt
import json
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone

from alerts.models import AlertHistory
from alerts.services import integration_create
from heartbeats.models import HeartbeatCheck, HeartbeatPing
from heartbeats.services import checks_evaluate
from tests.conftest import SAMPLES_DIR
from wedsync_ops.tenancy.context import service_context

URL = "/api/v1/integrations/alertmanager/"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"


def watchdog_payload(status="firing", extra_alerts=()):
    payload = json.loads((SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json").read_text())
    watchdog = dict(payload["alerts"][0])
    watchdog.update(
        status=status,
        labels={"alertname": "Watchdog", "severity": "none"},
        fingerprint="e0d2b6b1c5f3a1a0",
        annotations={"summary": "An alert that should always be firing"},
    )
    payload["alerts"] = [watchdog, *extra_alerts]
    payload["groupKey"] = '{}:{alertname="Watchdog"}'
    return payload


def post(client, token, payload):
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def watchdog_check(integration):
    with service_context():
        return HeartbeatCheck.objects.filter(watchdog_integration=integration).first()


@pytest.fixture
def integration(world):
    with service_context():
        return integration_create(kind="alertmanager", name="prod-eu")


def test_a_watchdog_arrival_pings_its_check_and_is_not_stored_as_an_alert(client, integration):
    platform, token = integration
    response = post(client, token, watchdog_payload())
    assert response.json() == {"received": 1, "created": 0, "resolved": 0}
    check = watchdog_check(platform)
    assert (check.status, check.organization_id, check.severity) == ("up", None, "critical")
    assert check.name == "Alertmanager Watchdog: prod-eu" and (check.period_s, check.grace_s) == (300, 300)
    post(client, token, watchdog_payload())  # every repeat is a heartbeat
    with service_context():
        assert AlertHistory.objects.count() == 0
        assert list(HeartbeatPing.objects.filter(heartbeat_check=check).values_list("via", "kind")) == [
            ("alertmanager", "success"),
            ("alertmanager", "success"),
        ]


def test_other_alerts_of_the_payload_are_stored_as_usual(client, integration):
    _platform, token = integration
    other = json.loads((SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json").read_text())["alerts"][0]
    assert post(client, token, watchdog_payload(extra_alerts=[other])).json()["created"] == 1
    with service_context():
        assert list(AlertHistory.objects.values_list("labels__alertname", flat=True)) == ["HighCheckoutLatency"]


def test_a_watchdog_that_stops_arriving_raises_a_critical_alert_and_its_return_resolves_it(client, integration):
    platform, token = integration
    post(client, token, watchdog_payload())
    arrived = watchdog_check(platform).last_ping_at
    with service_context():
        checks_evaluate(now=arrived + dt.timedelta(minutes=6))
        assert HeartbeatCheck.objects.get(watchdog_integration=platform).status == "late"
        checks_evaluate(now=arrived + dt.timedelta(minutes=11))
        alert = AlertHistory.objects.get(source="heartbeat")
    assert (alert.status, alert.severity, alert.organization_id) == ("firing", "critical", None)
    assert alert.labels["watchdog"] == "true" and alert.incident_id is not None
    post(client, token, watchdog_payload())
    with service_context():
        assert AlertHistory.objects.get(pk=alert.pk).status == "resolved"


def test_a_resolved_watchdog_is_down_at_once(client, integration):
    platform, token = integration
    post(client, token, watchdog_payload())
    post(client, token, watchdog_payload(status="resolved"))
    assert watchdog_check(platform).status == "down"
    with service_context():
        assert AlertHistory.objects.get(source="heartbeat").status == "firing"


def test_an_organization_integrations_watchdog_belongs_to_that_organization(client, world):
    with service_context():
        integration, token = integration_create(
            kind="alertmanager", name="rosewood prom", organization_id=world.org_a.id
        )
    post(client, token, watchdog_payload())
    assert watchdog_check(integration).organization_id == world.org_a.id


# --- a real Alertmanager ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def alertmanager(live_server, transactional_db):
    """A real Alertmanager whose route posts to the live server with a platform integration's token."""
    for binary in (ALERTMANAGER, AMTOOL):
        if not Path(binary).exists():
            pytest.fail(f"{binary} is missing: run `make test` (scripts/peers_heartbeats.sh installs it as root)")
    with service_context():
        integration, token = integration_create(kind="alertmanager", name="real-alertmanager")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "alertmanager.yml"
        config.write_text(
            "route:\n  receiver: portal\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n"
            "  repeat_interval: 2s\nreceivers:\n  - name: portal\n    webhook_configs:\n"
            f"      - url: {live_server.url}{URL}\n        send_resolved: true\n        http_config:\n"
            f"          authorization:\n            credentials: {token}\n"
        )
        proc = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            ready = _wait_for(
                lambda: (
                    subprocess.run(
                        [AMTOOL, "config", "show", f"--alertmanager.url={url}"], capture_output=True
                    ).returncode
                    == 0
                ),
                20,
            )
            assert ready, proc.stdout.read() if proc.poll() is not None else "alertmanager did not start"
            yield {"url": url, "integration": integration, "proc": proc}
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _amtool_add(url, *extra):
    result = subprocess.run(
        [
            AMTOOL,
            "alert",
            "add",
            "alertname=Watchdog",
            "severity=none",
            f"--alertmanager.url={url}",
            "--annotation=summary=An alert that should always be firing",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr


def _pings(integration, kind):
    with service_context():
        return HeartbeatPing.objects.filter(heartbeat_check__watchdog_integration=integration, kind=kind).count()


@pytest.mark.slow
def test_a_real_alertmanager_watchdog_keeps_its_check_up_and_its_resolution_takes_it_down(alertmanager):
    am, integration = alertmanager["url"], alertmanager["integration"]
    _amtool_add(am)
    assert _wait_for(lambda: _pings(integration, "success") >= 2), "the Watchdog did not arrive (and repeat)"
    check = watchdog_check(integration)
    assert check.status == "up"
    with service_context():
        assert AlertHistory.objects.count() == 0  # the always-firing alert is a heartbeat, not an open alert
        checks_evaluate(now=timezone.now() + dt.timedelta(minutes=11))  # as if it had stopped for 11 minutes
        assert HeartbeatCheck.objects.get(pk=check.pk).status == "down"
        assert AlertHistory.objects.get(source="heartbeat").status == "firing"
    # Alertmanager's next repeat of the Watchdog brings it back up and resolves the alert.
    assert _wait_for(lambda: watchdog_check(integration).status == "up")
    with service_context():
        assert AlertHistory.objects.get(source="heartbeat").status == "resolved"
    # Prometheus stops sending it: Alertmanager sends the Watchdog resolved, and the check is down at once.
    ended = (timezone.now() - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _amtool_add(am, f"--end={ended}")
    assert _wait_for(lambda: _pings(integration, "fail") >= 1), "the resolved Watchdog did not arrive"
    assert watchdog_check(integration).status == "down"
