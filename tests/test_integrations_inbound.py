"""Inbound integrations beside Alertmanager: Grafana, PagerDuty Events v2, generic JSON webhook; size limit.

Every sample in tests/samples is posted as it is. The rate limiter's
counters live in a private Redis database (12).
"""

import json

import pytest
from django.test import Client

from alerts import conf
from alerts.integrations.alertmanager import PayloadError, parse_payload
from alerts.integrations.grafana import parse_grafana_payload
from alerts.integrations.pagerduty import dedup_fingerprint, parse_pagerduty_event
from alerts.integrations.webhook import DEFAULT_MAPPING, parse_webhook_payload
from alerts.models import AlertHistory, AlertIntegration
from alerts.services import integration_create
from tests.conftest import SAMPLES_DIR, redis_db_url
from wedsync_ops.tenancy.context import service_context, vendor_context

SAMPLES = SAMPLES_DIR
RATE_REDIS = redis_db_url(12)


@pytest.fixture(autouse=True)
def private_rate_limit_redis(monkeypatch):
    monkeypatch.setattr(conf, "INTEGRATION_RATE_LIMIT_REDIS_URL", RATE_REDIS)


def make_integration(kind, org=None, **fields):
    with service_context():
        integration, token = integration_create(kind=kind, name=f"{kind} test", organization_id=org.id if org else None)
        if fields:
            AlertIntegration.objects.filter(pk=integration.pk).update(**fields)
            integration.refresh_from_db()
    return integration, token


def post(path, body, token=None, **extra):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().post(f"/api/v1/integrations/{path}", data=body, content_type="application/json", **extra)


def alerts():
    with service_context():
        return list(AlertHistory.objects.select_related("organization").order_by("starts_at"))


# --- every sample file parses as it is -------------------------------------------------

PARSERS = {
    "alertmanager": parse_payload,
    "grafana": parse_grafana_payload,
    "pagerduty": parse_pagerduty_event,
}


@pytest.mark.parametrize(
    "path", sorted(p for p in SAMPLES.glob("*/*.json") if p.parent.name in PARSERS), ids=lambda p: p.name
)
def test_every_alerting_sample_parses_as_is(path):
    parsed = PARSERS[path.parent.name](path.read_bytes())
    assert parsed is not None


def test_every_sample_folder_has_a_parser_or_belongs_to_another_app():
    folders = {p.name for p in SAMPLES.iterdir() if p.is_dir()}
    assert folders - set(PARSERS) <= {"web-vitals"}  # web-vitals: the apm app's ingest


# --- Grafana ---------------------------------------------------------------------------


def test_grafana_sample_opens_two_alerts_for_the_labelled_organization_and_redelivery_changes_nothing(world):
    _integration, token = make_integration("grafana")
    body = (SAMPLES / "grafana/firing-two-alerts.json").read_bytes()
    response = post("grafana/", body, token)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 2, "created": 2, "resolved": 0}
    rows = alerts()
    assert {(a.organization.slug, a.source, a.status, a.fingerprint) for a in rows} == {
        ("bloom-and-vine", "grafana", "firing", "7f2b0d8e4c1a9b36"),
        ("bloom-and-vine", "grafana", "firing", "0c93aa51d2e7f416"),
    }
    assert {a.severity for a in rows} == {"warning", "critical"}
    assert post("grafana/", body, token).json() == {"received": 2, "created": 0, "resolved": 0}


def test_grafana_resolution_resolves(world):
    _integration, token = make_integration("grafana")
    data = json.loads((SAMPLES / "grafana/firing-two-alerts.json").read_bytes())
    post("grafana/", data, token)
    data["alerts"][0]["status"] = "resolved"
    data["alerts"][0]["endsAt"] = "2026-06-13T15:40:00+01:00"
    assert post("grafana/", data, token).json()["resolved"] == 1


def test_grafana_endpoint_refuses_an_alertmanager_token_and_a_wrong_version(world):
    _am, am_token = make_integration("alertmanager")
    _gr, token = make_integration("grafana")
    body = (SAMPLES / "grafana/firing-two-alerts.json").read_bytes()
    assert post("grafana/", body, am_token).status_code == 401
    am_body = (SAMPLES / "alertmanager/captured-0.25-firing.json").read_bytes()
    response = post("grafana/", am_body, token)
    assert response.status_code == 400
    assert "version" in response.json()
    assert alerts() == []


# --- PagerDuty Events v2 ----------------------------------------------------------------


def pd_sample(name):
    return (SAMPLES / f"pagerduty/{name}.json").read_bytes()


def test_pagerduty_trigger_acknowledge_resolve_by_dedup_key(world):
    _integration, token = make_integration("pagerduty")
    response = post("pagerduty/", pd_sample("trigger"), token)
    assert response.status_code == 202, response.content
    assert response.json()["dedup_key"] == "stripe-webhooks/bloom-and-vine"
    (alert,) = alerts()
    assert (alert.organization.slug, alert.source, alert.severity, alert.status) == (
        "bloom-and-vine",
        "pagerduty",
        "critical",
        "firing",
    )
    assert alert.fingerprint == dedup_fingerprint("stripe-webhooks/bloom-and-vine")
    assert alert.title == "Stripe webhook failures above 10% for bloom-and-vine"
    assert alert.starts_at.isoformat() == "2026-06-13T14:23:41+00:00"
    assert post("pagerduty/", pd_sample("trigger"), token).json()["changed"] is False
    assert post("pagerduty/", pd_sample("acknowledge"), token).json()["changed"] is True
    assert alerts()[0].status == "acknowledged"
    assert post("pagerduty/", pd_sample("resolve"), token).json()["changed"] is True
    assert alerts()[0].status == "resolved"
    assert post("pagerduty/", pd_sample("resolve"), token).json()["changed"] is False


def test_pagerduty_new_trigger_after_resolve_opens_a_new_alert(world):
    _integration, token = make_integration("pagerduty")
    post("pagerduty/", pd_sample("trigger"), token)
    post("pagerduty/", pd_sample("resolve"), token)
    retrigger = json.loads(pd_sample("trigger"))
    retrigger["payload"]["timestamp"] = "2026-06-13T16:00:00.000+0000"
    post("pagerduty/", retrigger, token)
    assert [a.status for a in alerts()] == ["resolved", "firing"]


def test_pagerduty_routing_key_in_the_body_authenticates_without_a_header(world):
    _integration, token = make_integration("pagerduty", org=world.org_a)
    body = json.loads(pd_sample("trigger"))
    body["routing_key"] = token
    assert post("pagerduty/v2/enqueue", body).status_code == 202
    assert alerts()[0].organization_id == world.org_a.id  # the integration's organization wins
    assert post("pagerduty/", pd_sample("trigger")).status_code == 401  # the sample's key is no token of ours


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_action": "escalate"}, "event_action"),
        ({"dedup_key": "x" * 256}, "dedup_key"),
        ({"payload": {"summary": "s", "source": "s", "severity": "fatal"}}, "payload.severity"),
        ({"payload": {"summary": "", "source": "s", "severity": "info"}}, "payload.summary"),
        (
            {"payload": {"summary": "s", "source": "s", "severity": "info", "timestamp": "yesterday"}},
            "payload.timestamp",
        ),
    ],
)
def test_pagerduty_bad_events_answer_400_naming_the_field(world, change, field):
    _integration, token = make_integration("pagerduty")
    body = dict(json.loads(pd_sample("trigger")), **change)
    response = post("pagerduty/", body, token)
    assert response.status_code == 400
    assert field in response.json()
    assert alerts() == []


def test_pagerduty_acknowledge_without_dedup_key_is_refused():
    with pytest.raises(PayloadError) as info:
        parse_pagerduty_event(b'{"routing_key": "k", "event_action": "acknowledge"}')
    assert info.value.field == "dedup_key"


# --- generic JSON webhook with a field mapping --------------------------------------------

MAPPING = {
    "alerts": "data.events",
    "title": "headline",
    "status": "state",
    "resolved_values": ["ok"],
    "fingerprint": "key",
    "severity": "level",
    "severity_map": {"p1": "critical", "p3": "info"},
    "labels": "tags",
    "starts_at": "at",
    "organization": "tenant",
}


def test_generic_webhook_maps_fields_fires_and_resolves(world):
    _integration, token = make_integration("webhook", config=MAPPING)
    body = {
        "data": {
            "events": [
                {
                    "headline": "Gallery slow",
                    "state": "alerting",
                    "key": "gal-1",
                    "level": "P1",
                    "tags": {"service": "gallery", "shard": 3},
                    "at": 1781360000,
                    "tenant": "rosewood-florals",
                },
                {"headline": "Unknown tenant", "key": "x-2", "tenant": "nobody"},
            ]
        }
    }
    assert post("webhook/", body, token).json() == {"received": 2, "created": 2, "resolved": 0}
    by_fp = {a.fingerprint: a for a in alerts()}
    first = by_fp["gal-1"]
    assert (first.organization_id, first.severity, first.priority, first.source) == (
        world.org_a.id,
        "critical",
        "high",
        "webhook",
    )
    assert first.labels == {"service": "gallery", "shard": "3"}
    assert first.starts_at.timestamp() == 1781360000
    assert by_fp["x-2"].organization_id is None and by_fp["x-2"].severity == "warning"
    body["data"]["events"][0]["state"] = "OK"
    assert post("webhook/", body, token).json() == {"received": 2, "created": 0, "resolved": 1}


def test_generic_webhook_single_object_body_with_defaults(world):
    _integration, token = make_integration("webhook", org=world.org_b, config={"alerts": ""})
    response = post("webhook/", {"title": "Disk almost full", "severity": "error"}, token)
    assert response.json() == {"received": 1, "created": 1, "resolved": 0}
    (alert,) = alerts()
    assert (alert.organization_id, alert.severity) == (world.org_b.id, "critical")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"alerts": [{"severity": "info"}]}, "alerts[0].title"),
        ({"alerts": {"title": "x"}}, "alerts"),
        ({"nothing": []}, "alerts"),
        ({"alerts": [{"title": "x", "startsAt": "soon"}]}, "alerts[0].startsAt"),
        ({"alerts": [{"title": "x", "labels": {"a": {"b": 1}}}]}, "alerts[0].labels.a"),
    ],
)
def test_generic_webhook_bad_payload_names_the_field(world, body, field):
    with pytest.raises(PayloadError) as info:
        parse_webhook_payload(json.dumps(body).encode(), mapping=DEFAULT_MAPPING)
    assert info.value.field == field


# --- size limit, tenancy (the rate limit: tests/test_integration_rate_limit.py) -----------------


@pytest.mark.parametrize("kind,path", [("grafana", "grafana/"), ("pagerduty", "pagerduty/"), ("webhook", "webhook/")])
def test_oversized_body_answers_400_before_parsing(world, settings, kind, path):
    settings.INTEGRATION_MAX_BODY_BYTES = 100
    _integration, token = make_integration(kind)
    response = post(path, {"title": "x" * 200}, token)
    assert response.status_code == 400
    assert "larger than the limit of 100 bytes" in response.json()["body"][0]


def test_organization_integration_files_alerts_under_its_organization_invisible_to_others(world):
    _integration, token = make_integration("grafana", org=world.org_a)
    post("grafana/", (SAMPLES / "grafana/firing-two-alerts.json").read_bytes(), token)  # labels say bloom-and-vine
    assert {a.organization_id for a in alerts()} == {world.org_a.id}
    with vendor_context(world.org_b.id):
        assert AlertHistory.objects.count() == 0
        assert AlertIntegration.objects.count() == 0
    with vendor_context(world.org_a.id):
        assert AlertHistory.objects.count() == 2
