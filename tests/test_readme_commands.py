"""The README's script lines: the token and key printed alone are usable credentials."""

import io
import json

from django.core.management import call_command

from tests.conftest import SAMPLES_DIR
from wedsync_ops.tenancy.context import service_context

SAMPLE = SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json"


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_integration_token_only_prints_a_working_token(world, client):
    token = _run("create_integration", "--kind", "alertmanager", "--token-only").strip()
    assert "\n" not in token and len(token) >= 32
    response = client.post(
        "/api/v1/integrations/alertmanager/",
        data=SAMPLE.read_bytes(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    from alerts.models import AlertHistory

    with service_context():
        alert = AlertHistory.objects.get()
    assert alert.organization_id == world.org_a.id  # the `organization` label's slug


def test_create_api_key_key_only_prints_a_working_key(world, client):
    key = _run("create_api_key", "--org", "rosewood-florals", "--key-only").strip()
    body = {"metrics": [{"service": "payments", "name": "http.request.duration_ms", "value": 912.5}]}
    response = client.post(
        "/api/v1/metrics/", data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 1}


def test_the_readmes_user_token_works_as_token_and_as_bearer(world, client):
    line = _run("drf_create_token", "alice").strip()
    token = line.split()[2]  # the README's awk '{print $3}'
    for scheme in ("Token", "Bearer"):
        response = client.get("/api/v1/alerts/", HTTP_AUTHORIZATION=f"{scheme} {token}")
        assert response.status_code == 200, (scheme, response.content)
