"""The thin path, every step real: an Alertmanager payload over HTTP to a delivered webhook.

A live Django server (this process) takes the captured payload; a real Celery
worker (a subprocess, as the application role, through Redis) delivers the
outbox rows to a local HTTP server that records what it receives.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.db import connection

from tests.conftest import SAMPLES_DIR
from wedsync_ops.tenancy.auth import hash_token
from wedsync_ops.tenancy.context import service_context

SAMPLES = SAMPLES_DIR / "alertmanager"


class Recorder(BaseHTTPRequestHandler):
    """Records JSON bodies POSTed to it; ``server.received`` holds them."""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.server.arrived.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received, server.arrived = [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.mark.slow
def test_captured_alertmanager_payload_ends_in_an_incident_and_a_delivered_webhook(
    live_server, recorder, celery_worker_process
):
    from alerts.models import AlertHistory, AlertIntegration
    from incidents.models import Incident
    from notifications.models import NotificationChannel, NotificationDelivery
    from wedsync_ops.tenancy.models import Organization

    with service_context():
        org = Organization.objects.create(slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London")
        AlertIntegration.objects.create(
            kind="alertmanager", name="prod alertmanager", token_prefix="e2e", token_hash=hash_token("e2e-token")
        )
        NotificationChannel.objects.create(
            kind="webhook", name="ops webhook", config={"url": f"http://127.0.0.1:{recorder.server_port}/hook"}
        )

    payload = (SAMPLES / "captured-0.25-firing.json").read_bytes()
    response = requests.post(
        f"{live_server.url}/api/v1/integrations/alertmanager/",
        data=payload,
        timeout=10,
        headers={"Authorization": "Bearer e2e-token", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text

    # The worker delivers alert.firing and incident.opened; wait for both (bounded).
    for _ in range(2):
        assert recorder.arrived.wait(timeout=30), _worker_output(celery_worker_process)
        recorder.arrived.clear()
        if len(recorder.received) >= 2:
            break
    events = sorted(body["event"] for body in recorder.received)
    assert events == ["alert.firing", "incident.opened"], _worker_output(celery_worker_process)

    # The worker records the outcome just after the POST arrives: wait for it (bounded).
    for _ in range(100):
        with service_context():
            if NotificationDelivery.objects.exclude(status="delivered").count() == 0:
                break
        recorder.arrived.wait(timeout=0.1)

    with service_context():
        alert = AlertHistory.objects.get()
        assert alert.organization_id == org.id and alert.fingerprint == "3d35165a267914d1"
        incident = Incident.objects.get()
        assert alert.incident_id == incident.id
        with connection.cursor() as cur:
            cur.execute("SELECT active FROM wedding_day_protocol(%s, now())", [org.id])
            wedding_day = cur.fetchone()[0]
        assert incident.title.startswith("WEDDING DAY: ") == wedding_day
        assert incident.priority == ("p0" if wedding_day else "p1")
        deliveries = list(NotificationDelivery.objects.all())
        assert len(deliveries) == 2 and {d.status for d in deliveries} == {"delivered"}
        assert all(d.attempt_log.count() == 1 for d in deliveries)

    # Redelivery by Alertmanager changes nothing and sends nothing more.
    again = requests.post(
        f"{live_server.url}/api/v1/integrations/alertmanager/",
        data=payload,
        timeout=10,
        headers={"Authorization": "Bearer e2e-token", "Content-Type": "application/json"},
    )
    assert again.status_code == 200
    with service_context():
        assert AlertHistory.objects.count() == 1 and NotificationDelivery.objects.count() == 2


def _worker_output(proc) -> str:
    """The worker's output so far, for a failing assertion's message (non-blocking)."""
    if proc.poll() is None:
        return "worker still running; no delivery arrived in time"
    return proc.stdout.read()
