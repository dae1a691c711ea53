"""A real Alertmanager (Debian's prometheus-alertmanager 0.25) notifying the live portal.

Prometheus is played by the test: it posts alerts to Alertmanager's own API, which groups them and
sends webhooks to the portal with the integration's bearer token. Real peers behave in ways a
hand-made payload never does: when a re-sent alert of the same fingerprint carries an earlier
``startsAt``, Alertmanager merges the two and moves ``startsAt`` earlier, so its ``resolved``
notification names a start before the one the portal first saw. That resolution must still end the
open alert (and the incident it opened), not be kept as a second, separate row.
"""

import datetime as dt
import socket
import subprocess
import time

import pytest
import requests

from alerts.models import AlertHistory
from alerts.services import integration_create
from incidents.models import Incident
from wedsync_ops.tenancy.context import service_context

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LABELS = {
    "alertname": "HighCheckoutLatency",
    "organization": "rosewood-florals",
    "service": "payments",
    "severity": "critical",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alertmanager(world, live_server, tmp_path):
    """Alertmanager on a loopback port, routing every alert to the portal's webhook within a second."""
    with service_context():
        _, token = integration_create(kind="alertmanager", name="real alertmanager")
    port = _free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(f"""
route:
  receiver: wedsync-ops
  group_by: [alertname, organization]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: wedsync-ops
    webhook_configs:
      - url: {live_server.url}/api/v1/integrations/alertmanager/
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
""")
    proc = subprocess.Popen(
        [
            "prometheus-alertmanager",
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{base}/-/ready", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"alertmanager did not start: {proc.stderr.read()}")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def post_alert(base, *, starts_at, ends_at=None):
    """What Prometheus does: POST the alert to Alertmanager's API v2."""
    alert = {
        "labels": LABELS,
        "annotations": {"summary": "p95 checkout latency 2.4 s > 1 s"},
        "startsAt": starts_at.isoformat(),
        "generatorURL": "http://prometheus.local/graph",
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    response = requests.post(f"{base}/api/v2/alerts", json=[alert], timeout=5)
    assert response.status_code == 200, response.text


def wait_for(predicate, *, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with service_context():
            value = predicate()
        if value:
            return value
        time.sleep(0.2)
    with service_context():
        return predicate()


def test_a_resolution_with_an_earlier_merged_starts_at_resolves_the_open_alert_and_its_incident(alertmanager):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first_start = now - dt.timedelta(minutes=2)
    post_alert(alertmanager, starts_at=first_start)
    opened = wait_for(lambda: AlertHistory.objects.filter(status="firing").first())
    assert opened is not None and opened.starts_at == first_start
    assert opened.incident_id is not None  # critical: an incident

    # Prometheus restarts and re-sends the alert with an earlier start; Alertmanager keeps the earliest.
    post_alert(alertmanager, starts_at=first_start - dt.timedelta(minutes=10))
    am_alerts = requests.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    assert am_alerts[0]["startsAt"].startswith((first_start - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))

    post_alert(alertmanager, starts_at=first_start - dt.timedelta(minutes=10), ends_at=dt.datetime.now(dt.UTC))
    resolved = wait_for(lambda: AlertHistory.objects.filter(pk=opened.pk, status="resolved").first())
    assert resolved is not None, "the resolution with an earlier startsAt did not resolve the open alert"
    with service_context():
        assert AlertHistory.objects.count() == 1  # no second, separate "resolved" row
        incident = Incident.objects.get(pk=opened.incident_id)
    assert incident.status == "resolved"  # its only alert resolved: the incident resolved itself
