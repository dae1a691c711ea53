"""Inbound Alertmanager webhook (v4): auth, validation, organizations, idempotency, the create_integration command."""

import datetime as dt
import hashlib
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from alerts.integrations.alertmanager import parse_payload
from alerts.models import AlertHistory, AlertIntegration
from alerts.services import integration_create
from tests.conftest import SAMPLES_DIR
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context

URL = "/api/v1/integrations/alertmanager/"
SAMPLES = SAMPLES_DIR / "alertmanager"
SAMPLE_NAMES = [
    "captured-0.25-firing.json",
    "captured-0.25-group-partly-resolved.json",
    "captured-0.25-group-truncated.json",
    "captured-0.25-resolved.json",
]


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def sample_json(name: str) -> dict:
    return json.loads(sample_bytes(name))


def make_integration(org=None, *, kind="alertmanager", enabled=True):
    with service_context():
        integration, token = integration_create(
            kind=kind, name=f"{kind} test", organization_id=org.id if org is not None else None
        )
        if not enabled:
            AlertIntegration.objects.filter(pk=integration.pk).update(enabled=False)
    return integration, token


def post(client, body, token=None, **extra):
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(URL, data=body, content_type="application/json", **extra)


def alert_rows():
    """Every alert as (organization slug or None, fingerprint, status), sorted; read in a service context."""
    with service_context():
        return sorted(
            AlertHistory.objects.values_list("organization__slug", "fingerprint", "status"),
            key=lambda r: (r[0] or "", r[1], r[2]),
        )


@pytest.fixture
def platform(world):
    world.integration, world.token = make_integration()
    return world


# --- each captured payload, as is -------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_captured_sample_is_accepted_as_is(platform, client, name):
    response = post(client, sample_bytes(name), platform.token)
    assert response.status_code == 200, response.content
    assert response.json()["received"] == len(sample_json(name)["alerts"])
    assert len(alert_rows()) == len(sample_json(name)["alerts"])


def test_firing_sample_opens_an_alert_for_the_organization_named_by_its_label(platform, client):
    response = post(client, sample_bytes("captured-0.25-firing.json"), platform.token)
    assert response.json() == {"received": 1, "created": 1, "resolved": 0}
    with service_context():
        alert = AlertHistory.objects.get()
        integration = AlertIntegration.objects.get(pk=platform.integration.pk)
    assert alert.organization_id == platform.org_a.id
    assert alert.fingerprint == "3d35165a267914d1"
    assert alert.status == "firing" and alert.source == "alertmanager"
    assert (alert.severity, alert.priority) == ("critical", "high")
    assert alert.title == "p95 checkout latency 2.4s > 1s"
    assert alert.starts_at == dt.datetime(2026, 11, 21, 4, 40, 30, 849101, tzinfo=dt.UTC)
    assert alert.ends_at is None
    assert alert.generator_url == "http://prometheus.local/graph"
    assert alert.group_key == '{}:{alertname="HighCheckoutLatency", organization="rosewood-florals"}'
    assert alert.labels["service"] == "payments"
    assert alert.annotations["runbook_url"] == "https://runbooks.example/checkout-latency"
    assert alert.integration_id == platform.integration.pk
    assert integration.last_received_at is not None
    # Critical: an incident was opened and linked.
    assert alert.incident_id is not None


def test_firing_then_resolved_resolves_the_open_alert(platform, client):
    post(client, sample_bytes("captured-0.25-firing.json"), platform.token)
    response = post(client, sample_bytes("captured-0.25-resolved.json"), platform.token)
    assert response.json() == {"received": 1, "created": 0, "resolved": 1}
    with service_context():
        alert = AlertHistory.objects.get()
    assert alert.status == "resolved"
    assert alert.ends_at == dt.datetime(2026, 11, 21, 4, 40, 34, tzinfo=dt.UTC)
    assert alert.resolved_at is not None


def test_redelivered_payloads_change_nothing(platform, client):
    firing = sample_bytes("captured-0.25-firing.json")
    resolved = sample_bytes("captured-0.25-resolved.json")
    assert post(client, firing, platform.token).json()["created"] == 1
    assert post(client, firing, platform.token).json() == {"received": 1, "created": 0, "resolved": 0}
    assert alert_rows() == [("rosewood-florals", "3d35165a267914d1", "firing")]
    assert post(client, resolved, platform.token).json()["resolved"] == 1
    assert post(client, resolved, platform.token).json() == {"received": 1, "created": 0, "resolved": 0}
    # A firing repeat that crossed the resolution does not reopen it.
    assert post(client, firing, platform.token).json() == {"received": 1, "created": 0, "resolved": 0}
    assert alert_rows() == [("rosewood-florals", "3d35165a267914d1", "resolved")]


def test_partly_resolved_group_with_an_unknown_organization_is_kept_unassigned(platform, client):
    response = post(client, sample_bytes("captured-0.25-group-partly-resolved.json"), platform.token)
    # The resolved alert was never seen firing: it is kept as a resolved row, not dropped.
    assert response.json() == {"received": 2, "created": 2, "resolved": 0}
    assert alert_rows() == [(None, "40b0684495cb9aa3", "firing"), (None, "fb8d57efdfb8259c", "resolved")]
    assert post(client, sample_bytes("captured-0.25-group-partly-resolved.json"), platform.token).json() == {
        "received": 2,
        "created": 0,
        "resolved": 0,
    }
    with staff_context():
        assert AlertHistory.objects.filter(organization__isnull=True).count() == 2
    for org in (platform.org_a, platform.org_b):
        with vendor_context(org.id):
            assert AlertHistory.objects.count() == 0
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM alert_history")
                assert cur.fetchone() == (0,)


def test_truncated_group_then_partly_resolved_resolves_the_second_instance(platform, client):
    assert post(client, sample_bytes("captured-0.25-group-truncated.json"), platform.token).json() == {
        "received": 2,
        "created": 2,
        "resolved": 0,
    }
    assert post(client, sample_bytes("captured-0.25-group-partly-resolved.json"), platform.token).json() == {
        "received": 2,
        "created": 0,
        "resolved": 1,
    }
    assert alert_rows() == [(None, "40b0684495cb9aa3", "firing"), (None, "fb8d57efdfb8259c", "resolved")]


def test_organization_integration_stores_alerts_under_its_own_organization_whatever_the_label(world, client):
    _integration, token = make_integration(world.org_b)
    # The payload's label names org A; an org B integration cannot post into org A.
    assert post(client, sample_bytes("captured-0.25-firing.json"), token).status_code == 200
    assert alert_rows() == [("bloom-and-vine", "3d35165a267914d1", "firing")]
    with vendor_context(world.org_a.id):
        assert AlertHistory.objects.count() == 0
    with vendor_context(world.org_b.id):
        assert AlertHistory.objects.count() == 1


def test_organization_integration_does_not_resolve_another_organizations_alert(platform, client):
    post(client, sample_bytes("captured-0.25-firing.json"), platform.token)  # org A's alert, via the platform
    _integration, token_b = make_integration(platform.org_b)
    response = post(client, sample_bytes("captured-0.25-resolved.json"), token_b)
    assert response.json() == {"received": 1, "created": 1, "resolved": 0}
    assert alert_rows() == [
        ("bloom-and-vine", "3d35165a267914d1", "resolved"),
        ("rosewood-florals", "3d35165a267914d1", "firing"),
    ]


def test_missing_fingerprint_is_computed_from_the_labels(platform, client):
    payload = sample_json("captured-0.25-firing.json")
    del payload["alerts"][0]["fingerprint"]
    assert post(client, payload, platform.token).status_code == 200
    assert alert_rows() == [("rosewood-florals", "3d35165a267914d1", "firing")]


@pytest.mark.parametrize(
    ("label", "severity", "priority"),
    [
        ("critical", "critical", "high"),
        ("warning", "warning", "medium"),
        ("info", "info", "low"),
        ("page", "emergency", "critical"),
        ("EMERGENCY", "emergency", "critical"),
        ("sev2", "warning", "medium"),
        (None, "warning", "medium"),
    ],
)
def test_severity_and_priority_come_from_the_labels(label, severity, priority):
    payload = sample_json("captured-0.25-firing.json")
    if label is None:
        del payload["alerts"][0]["labels"]["severity"]
    else:
        payload["alerts"][0]["labels"]["severity"] = label
    alert = parse_payload(json.dumps(payload).encode()).alerts[0]
    assert (alert.severity, alert.priority) == (severity, priority)


def test_priority_label_and_title_fallback_to_alertname():
    payload = sample_json("captured-0.25-firing.json")
    payload["alerts"][0]["labels"]["priority"] = "low"
    payload["alerts"][0]["annotations"] = {}
    alert = parse_payload(json.dumps(payload).encode()).alerts[0]
    assert alert.priority == "low" and alert.title == "HighCheckoutLatency"


# --- bad requests store nothing -----------------------------------------------


def _mutate(change):
    payload = sample_json("captured-0.25-group-truncated.json")
    change(payload)
    return json.dumps(payload).encode()


BAD_PAYLOADS = [
    pytest.param(b"{not json", "body", id="not-json"),
    pytest.param(b"\xff\xfe", "body", id="not-utf8"),
    pytest.param(b"[]", "body", id="not-an-object"),
    pytest.param(_mutate(lambda p: p.update(version="3")), "version", id="wrong-version"),
    pytest.param(_mutate(lambda p: p.update(version=4)), "version", id="version-not-a-string"),
    pytest.param(_mutate(lambda p: p.pop("version")), "version", id="missing-version"),
    pytest.param(_mutate(lambda p: p.pop("alerts")), "alerts", id="missing-alerts"),
    pytest.param(_mutate(lambda p: p.update(alerts={"a": 1})), "alerts", id="alerts-not-a-list"),
    pytest.param(_mutate(lambda p: p["alerts"][1].update(status="pending")), "alerts[1].status", id="bad-status"),
    pytest.param(_mutate(lambda p: p["alerts"][1].pop("labels")), "alerts[1].labels", id="missing-labels"),
    pytest.param(_mutate(lambda p: p["alerts"][1].update(labels=["a"])), "alerts[1].labels", id="labels-not-dict"),
    pytest.param(
        _mutate(lambda p: p["alerts"][1]["labels"].update(severity=2)),
        "alerts[1].labels.severity",
        id="label-value-not-a-string",
    ),
    pytest.param(
        _mutate(lambda p: p["alerts"][1].update(annotations="x")), "alerts[1].annotations", id="annotations-not-dict"
    ),
    pytest.param(_mutate(lambda p: p["alerts"][1].pop("startsAt")), "alerts[1].startsAt", id="missing-startsAt"),
    pytest.param(
        _mutate(lambda p: p["alerts"][1].update(startsAt="2026-11-21 04:45")), "alerts[1].startsAt", id="startsAt-bad"
    ),
    pytest.param(
        _mutate(lambda p: p["alerts"][1].update(startsAt="2026-11-21T04:45:05")),
        "alerts[1].startsAt",
        id="startsAt-without-offset",
    ),
    pytest.param(
        _mutate(lambda p: p["alerts"][1].update(startsAt="2026-02-30T04:45:05Z")),
        "alerts[1].startsAt",
        id="startsAt-not-a-date",
    ),
    pytest.param(_mutate(lambda p: p["alerts"][1].update(endsAt=17)), "alerts[1].endsAt", id="endsAt-not-a-string"),
    pytest.param(_mutate(lambda p: p["alerts"][1].update(fingerprint=12)), "alerts[1].fingerprint", id="bad-fp"),
    pytest.param(_mutate(lambda p: p["alerts"].append("x")), "alerts[2]", id="alert-not-an-object"),
]


@pytest.mark.parametrize(("body", "field"), BAD_PAYLOADS)
def test_bad_payload_answers_400_naming_the_field_and_stores_nothing(platform, client, body, field):
    response = post(client, body, platform.token)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field] and errors[field][0]
    # The first alert was valid: nothing is written unless the whole payload is.
    assert alert_rows() == []
    with service_context():
        assert AlertIntegration.objects.get(pk=platform.integration.pk).last_received_at is None


def test_oversized_body_answers_400_and_stores_nothing(platform, client, settings):
    body = sample_bytes("captured-0.25-firing.json")
    settings.INTEGRATION_MAX_BODY_BYTES = len(body) - 1
    response = post(client, body, platform.token)
    assert response.status_code == 400
    assert "limit" in response.json()["body"][0]
    assert alert_rows() == []
    settings.INTEGRATION_MAX_BODY_BYTES = len(body)
    assert post(client, body, platform.token).status_code == 200


@pytest.mark.parametrize("case", ["no-header", "wrong-token", "disabled", "other-kind", "token-scheme"])
def test_bad_or_missing_token_answers_401_and_stores_nothing(world, client, case):
    _integration, token = make_integration(world.org_a)
    extra = {}
    if case == "wrong-token":
        token = token + "x"
    elif case == "disabled":
        _other, token = make_integration(world.org_a, enabled=False)
    elif case == "other-kind":
        _other, token = make_integration(world.org_a, kind="grafana")
    elif case == "token-scheme":
        extra["HTTP_AUTHORIZATION"] = f"Token {token}"
    response = post(
        client,
        sample_bytes("captured-0.25-firing.json"),
        None if case in ("no-header", "token-scheme") else token,
        **extra,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert alert_rows() == []


def test_a_logged_in_vendor_without_integration_token_is_refused(world, client):
    client.force_login(world.alice)
    assert post(client, sample_bytes("captured-0.25-firing.json")).status_code == 401
    assert alert_rows() == []


# --- create_integration --------------------------------------------------------


def test_create_integration_prints_url_token_and_receiver_snippet_and_stores_only_the_hash(world, client):
    out = io.StringIO()
    call_command(
        "create_integration",
        "--kind",
        "alertmanager",
        "--org",
        "rosewood-florals",
        "--base-url",
        "https://ops.example.com/",
        stdout=out,
    )
    text = out.getvalue()
    token = re.search(r"^Token: (\S+)$", text, re.M).group(1)
    assert "URL:   https://ops.example.com/api/v1/integrations/alertmanager/" in text
    assert "webhook_configs:" in text and "- url: https://ops.example.com/api/v1/integrations/alertmanager/" in text
    assert f"credentials: {token}" in text and "authorization:" in text
    with service_context():
        integration = AlertIntegration.objects.get()
    assert integration.organization_id == world.org_a.id and integration.kind == "alertmanager"
    assert integration.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (integration.token_prefix, integration.token_hash)
    assert token.startswith(integration.token_prefix)
    # The printed token works.
    assert post(client, sample_bytes("captured-0.25-firing.json"), token).status_code == 200
    assert alert_rows() == [("rosewood-florals", "3d35165a267914d1", "firing")]


def test_create_integration_without_org_is_platform_wide(world):
    out = io.StringIO()
    call_command("create_integration", "--kind", "alertmanager", "--name", "prom-main", stdout=out)
    with service_context():
        integration = AlertIntegration.objects.get()
    assert integration.organization_id is None and integration.name == "prom-main"
    assert "platform-wide" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "alertmanager", "--org", "no-such-org"], "no organization"),
        (["--kind", "nagios"], "unknown kind"),
        (["--kind", "alertmanager", "--base-url", "ops.example.com"], "--base-url"),
    ],
)
def test_create_integration_refuses_unknown_org_or_kind(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_integration", *args, stdout=io.StringIO())
    with service_context():
        assert AlertIntegration.objects.count() == 0


# --- admin ---------------------------------------------------------------------------


def test_staff_see_unassigned_alerts_in_admin_and_never_an_integration_token(platform, client):
    post(client, sample_bytes("captured-0.25-group-partly-resolved.json"), platform.token)
    admin_user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-12345")
    client.force_login(admin_user)
    page = client.get("/admin/alerts/alerthistory/?org=unassigned")
    assert page.status_code == 200
    assert page.content.count(b'<th class="field-title">') == 2
    assert b">Booking API down on booking-api-1:8000</a>" in page.content
    page = client.get(f"/admin/alerts/alerthistory/?org={platform.org_a.pk}")
    assert page.content.count(b'<th class="field-title">') == 0
    page = client.get(f"/admin/alerts/alertintegration/{platform.integration.pk}/change/")
    assert page.status_code == 200
    assert platform.integration.token_prefix.encode() in page.content
    assert platform.integration.token_hash.encode() not in page.content
    assert platform.token.encode() not in page.content


def test_vendor_users_cannot_open_the_alert_admin(platform, client):
    post(client, sample_bytes("captured-0.25-firing.json"), platform.token)
    client.force_login(platform.alice)
    page = client.get("/admin/alerts/alerthistory/")
    assert page.status_code == 302 and "/admin/login/" in page["Location"]


def test_integration_added_in_admin_shows_its_token_once_and_stores_only_the_hash(world, client):
    admin_user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-12345")
    client.force_login(admin_user)
    response = client.post(
        "/admin/alerts/alertintegration/add/",
        {"name": "prom-eu", "kind": "alertmanager", "organization": str(world.org_a.pk), "enabled": "on"},
        follow=True,
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"] if "shown only now" in str(m)]
    token = message.rsplit(" ", 1)[1]
    with service_context():
        integration = AlertIntegration.objects.get()
    assert (integration.name, integration.organization_id) == ("prom-eu", world.org_a.id)
    assert integration.token_hash == hashlib.sha256(token.encode()).hexdigest()
    page = client.get(f"/admin/alerts/alertintegration/{integration.pk}/change/")
    assert token.encode() not in page.content
    client.logout()
    assert post(client, sample_bytes("captured-0.25-firing.json"), token).status_code == 200


def test_one_group_of_critical_alerts_opens_one_incident(platform, client):
    """Two instances of VendorBookingAPIDown (one Alertmanager group) are one outage: one incident."""
    from incidents.models import Incident

    assert post(client, sample_bytes("captured-0.25-group-truncated.json"), platform.token).status_code == 200
    with service_context():
        alerts = AlertHistory.objects.filter(labels__alertname="VendorBookingAPIDown")
        assert alerts.count() == 2
        (incident,) = Incident.objects.all()
        assert {a.incident_id for a in alerts} == {incident.id}
        assert incident.updates.filter(kind="alert", message__contains="joined").count() == 1
