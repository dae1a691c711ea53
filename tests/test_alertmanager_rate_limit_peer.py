"""A real Alertmanager (Debian's prometheus-alertmanager 0.25) storms an integration far over its rate limit:
every alert ends up in the portal. Payloads over the limit are parked (202); once the backlog is full the
portal answers 503 with Retry-After, which Alertmanager retries until the worker has made room."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from alerts import conf
from alerts.integrations.backlog import integration_backlog_drain
from alerts.models import AlertHistory, AlertIntegration
from alerts.services import integration_create
from tests.processes import free_port, serving, wait_until
from tests.test_integrations_inbound import RATE_REDIS
from wedsync_ops.tenancy.context import service_context

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
STORM = 40


@pytest.fixture
def alertmanager(live_server):
    """An Alertmanager whose only receiver is the portal's webhook, grouping by alertname, no waiting."""
    with service_context():
        integration, token = integration_create(kind="alertmanager", name="storm", organization_id=None)
        AlertIntegration.objects.filter(pk=integration.pk).update(rate_limit_alerts=5)
    work = Path(tempfile.mkdtemp(prefix="wedsync-alertmanager-"))
    (work / "alertmanager.yml").write_text(
        json.dumps(
            {
                "route": {
                    "receiver": "portal",
                    "group_by": ["alertname"],
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {
                        "name": "portal",
                        "webhook_configs": [
                            {
                                "url": f"{live_server.url}/api/v1/integrations/alertmanager/",
                                "send_resolved": True,
                                "http_config": {"authorization": {"credentials": token}},
                            }
                        ],
                    }
                ],
            }
        )
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={work / 'alertmanager.yml'}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            return requests.get(f"{url}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    with serving(proc, ready=ready, what="alertmanager", timeout=20, workdir=work):
        yield url


def _metric(url: str, name: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") and 'integration="webhook"' in line
    )


def _stored() -> set[str]:
    with service_context():
        return {title for title in AlertHistory.objects.values_list("title", flat=True)}


@pytest.mark.slow
def test_a_storm_far_over_the_limit_loses_no_alert(transactional_db, world, alertmanager, monkeypatch):
    monkeypatch.setattr(conf, "INTEGRATION_RATE_LIMIT_REDIS_URL", RATE_REDIS)
    monkeypatch.setattr(conf, "INTEGRATION_BACKLOG_MAX", 10)
    alerts = [
        {
            "labels": {"alertname": f"Storm{i:02d}", "organization": "rosewood-florals", "severity": "warning"},
            "annotations": {"summary": f"storm alert {i}"},
        }
        for i in range(STORM)
    ]
    assert requests.post(f"{alertmanager}/api/v2/alerts", json=alerts, timeout=10).status_code == 200

    # 5 alerts inline, 10 payloads parked, the rest refused with 503 (and retried by Alertmanager).
    wait_until(
        lambda: _metric(alertmanager, "alertmanager_notification_requests_failed_total") > 0,
        timeout=60,
        what="Alertmanager meeting a full backlog",
    )
    assert len(_stored()) < STORM

    def drained_everything():  # the worker's task, as it runs
        integration_backlog_drain()
        return len(_stored()) == STORM

    wait_until(drained_everything, timeout=120, what="every alert of the storm", poll=0.5)
    with service_context():
        names = set(AlertHistory.objects.values_list("labels__alertname", flat=True))
    assert names == {f"Storm{i:02d}" for i in range(STORM)}
    assert _metric(alertmanager, "alertmanager_notifications_total") >= STORM
