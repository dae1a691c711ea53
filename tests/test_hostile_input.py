"""Bad input answers 400, never 500, and stores nothing (issue 13, item 3).

The same hostile corpus (``tests/hostile/inputs.json``) is fed to every endpoint and form that takes
each kind of value: NUL characters and lone surrogates wherever a string goes, JSON nested 100,000
deep, non-object bodies, offsets beyond ±15:59 and years outside 1970–2100, integers past bigint and
impossible dates.
"""

import copy
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.conftest import SAMPLES_DIR
from wedsync_ops.tenancy.context import service_context

CORPUS = json.loads((Path(__file__).parent / "hostile" / "inputs.json").read_text())
STRINGS = CORPUS["strings"]
KEY = object()  # in a path: put the hostile string in a key of the object instead of a value

ALERTMANAGER = json.loads((SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json").read_text())
GRAFANA = json.loads((SAMPLES_DIR / "grafana" / "firing-two-alerts.json").read_text())
PAGERDUTY = json.loads((SAMPLES_DIR / "pagerduty" / "trigger.json").read_text())
WEB_VITAL = json.loads((SAMPLES_DIR / "web-vitals" / "lcp.json").read_text())
RULE = {
    "name": "Checkout latency",
    "metric_name": "checkout_ms",
    "service": "payments",
    "aggregation": "p95",
    "comparison": "above",
    "threshold": 500,
    "window_minutes": 5,
    "labels": {"team": "pay"},
}
SILENCE = {
    "matchers": [{"name": "alertname", "value": "X", "isRegex": False, "isEqual": True}],
    "startsAt": "2026-06-13T12:00:00Z",
    "endsAt": "2026-06-13T14:00:00Z",
    "createdBy": "ops",
    "comment": "deploy",
}
WEBHOOK = {
    "alerts": [
        {"title": "Disk full", "status": "firing", "labels": {"host": "db1"}, "startsAt": "2026-06-13T12:00:00Z"}
    ]
}
METRICS = {
    "metrics": [{"service": "payments", "name": "latency", "value": 1.0, "unit": "ms", "tags": {"route": "/pay"}}]
}
ERRORS = {
    "errors": [
        {
            "service": "payments",
            "type": "PaymentError",
            "message": "boom",
            "frames": [{"file": "pay.py", "function": "charge"}],
            "tags": {"release": "1"},
        }
    ]
}


@pytest.fixture
def sent(world):
    """Every credential an attacker might hold: integration tokens of each kind, an API key, people."""
    from alerts.services import integration_create
    from apm.services import api_key_create
    from incidents.services import incident_create
    from tests.conftest import WEDNESDAY

    with service_context():
        world.tokens = {
            kind: integration_create(kind=kind, name=kind, organization_id=world.org_a.id)[1]
            for kind in ("alertmanager", "grafana", "pagerduty", "webhook")
        }
        world.api_key = api_key_create(organization=world.org_a, name="ingest")[1]
        world.incident = incident_create(
            organization=world.org_a, title="api errors", by=None, now=WEDNESDAY, priority="p1"
        )
    return world


def _stored() -> dict:
    from alerts.models import AlertHistory, AlertRule, SuppressionRule
    from apm.models import ApmDashboard, ErrorReport
    from incidents.models import IncidentUpdate
    from notifications.models import NotificationChannel

    with service_context():
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM apm_metrics")
            (metrics,) = cur.fetchone()
        return {
            m.__name__: m.objects.count()
            for m in (
                AlertHistory,
                AlertRule,
                SuppressionRule,
                ApmDashboard,
                ErrorReport,
                IncidentUpdate,
                NotificationChannel,
            )
        } | {"metrics": metrics}


def _endpoints(w):
    """``(name, path, auth headers or a user to log in, body template, string paths, timestamp paths)``."""
    bearer = {kind: {"HTTP_AUTHORIZATION": f"Bearer {token}"} for kind, token in w.tokens.items()}
    key = {"HTTP_AUTHORIZATION": f"Bearer {w.api_key}"}
    pagerduty = dict(PAGERDUTY, routing_key=w.tokens["pagerduty"])
    incident = f"/api/v1/incidents/{w.incident.pk}"
    alert = ("alerts", 0)
    return [
        (
            "alertmanager",
            "/api/v1/integrations/alertmanager/",
            bearer["alertmanager"],
            ALERTMANAGER,
            [
                (*alert, "labels", "alertname"),
                (*alert, "labels", KEY),
                (*alert, "annotations", "summary"),
                (*alert, "generatorURL"),
                (*alert, "fingerprint"),
                ("groupKey",),
            ],
            [(*alert, "startsAt"), (*alert, "endsAt")],
        ),
        (
            "grafana",
            "/api/v1/integrations/grafana/",
            bearer["grafana"],
            GRAFANA,
            [
                (*alert, "labels", "alertname"),
                (*alert, "labels", KEY),
                (*alert, "annotations", "summary"),
                (*alert, "generatorURL"),
                (*alert, "fingerprint"),
            ],
            [(*alert, "startsAt")],
        ),
        (
            "pagerduty",
            "/api/v1/integrations/pagerduty/",
            {},
            pagerduty,
            [
                ("payload", "summary"),
                ("payload", "source"),
                ("payload", "custom_details", "failure_rate"),
                ("payload", "custom_details", KEY),
                ("dedup_key",),
                ("links", 0, "href"),
            ],
            [("payload", "timestamp")],
        ),
        (
            "webhook",
            "/api/v1/integrations/webhook/",
            bearer["webhook"],
            WEBHOOK,
            [(*alert, "title"), (*alert, "labels", "host"), (*alert, "labels", KEY)],
            [(*alert, "startsAt")],
        ),
        (
            "metrics",
            "/api/v1/metrics/",
            key,
            METRICS,
            [
                ("metrics", 0, "service"),
                ("metrics", 0, "unit"),
                ("metrics", 0, "tags", "route"),
                ("metrics", 0, "tags", KEY),
            ],
            [("metrics", 0, "timestamp")],
        ),
        (
            "errors",
            "/api/v1/errors/",
            key,
            ERRORS,
            [
                ("errors", 0, "message"),
                ("errors", 0, "tags", "release"),
                ("errors", 0, "tags", KEY),
                ("errors", 0, "frames", 0, "function"),
            ],
            [("errors", 0, "timestamp")],
        ),
        (
            "web-vitals",
            "/api/v1/web-vitals/",
            key,
            dict(WEB_VITAL, organization="rosewood-florals"),
            [("page",)],
            [("timestamp",)],
        ),
        (
            "alert rules",
            "/api/v1/alert-rules/",
            w.alice,
            RULE,
            [("name",), ("labels", "team"), ("labels", KEY), ("service",)],
            [],
        ),
        ("incident notes", f"{incident}/notes/", w.staff, {"message": "rolled back"}, [("message",)], []),
        ("incident escalate", f"{incident}/escalate/", w.staff, {"reason": "call"}, [("reason",)], []),
        (
            "silences",
            "/api/v2/silences",
            bearer["alertmanager"],
            SILENCE,
            [("comment",), ("createdBy",), ("matchers", 0, "value"), ("matchers", 0, "name")],
            [("startsAt",), ("endsAt",)],
        ),
    ]


def _client(auth):
    client = APIClient()
    headers = {}
    if isinstance(auth, dict):
        headers = auth
    else:
        client.force_login(auth)
    return client, headers


def _with(body, path, value):
    body = copy.deepcopy(body)
    target = body
    for part in path[:-1]:
        target = target[part]
    if path[-1] is KEY:
        target[value] = "x"
    else:
        target[path[-1]] = value
    return body


def _post(auth, path, raw: str):
    client, headers = _client(auth)
    return client.generic(
        "POST", path, raw.encode("utf-8", "surrogatepass"), content_type="application/json", **headers
    )


def _assert_refused(response, what):
    assert response.status_code == 400, (what, response.status_code, response.content[:300])
    assert response.content, what  # the field and the reason


def test_every_string_field_of_every_endpoint_refuses_nul_and_lone_surrogates(sent):
    before = _stored()
    for name, path, auth, body, string_paths, _times in _endpoints(sent):
        assert _post(auth, path, json.dumps(body)).status_code in (200, 201, 202), name  # the template is fine
        before = _stored()
        for where in string_paths:
            for value in STRINGS:
                response = _post(auth, path, json.dumps(_with(body, where, value)))
                _assert_refused(response, (name, where, value))
        assert _stored() == before, name


def test_deeply_nested_json_is_refused_everywhere_pagerduty_before_any_credential(sent):
    arrays = "[" * CORPUS["nested_bodies"]["arrays"]
    objects = '{"a":' * CORPUS["nested_bodies"]["objects"]
    before = _stored()
    for name, path, auth, _body, _s, _t in _endpoints(sent):
        for raw in (arrays, objects):
            response = _post(auth, path, raw)
            _assert_refused(response, name)
            assert "nested deeper than 64" in response.content.decode(), name
    unauthenticated = APIClient().generic(
        "POST", "/api/v1/integrations/pagerduty/", arrays.encode(), content_type="application/json"
    )
    assert unauthenticated.status_code == 400
    assert _stored() == before


def test_offsets_beyond_1559_and_years_outside_1970_2100_are_refused(sent):
    before = _stored()
    for name, path, auth, body, _s, time_paths in _endpoints(sent):
        for where in time_paths:
            for value in CORPUS["timestamps"]:
                _assert_refused(_post(auth, path, json.dumps(_with(body, where, value))), (name, where, value))
    assert _stored() == before


def test_non_object_bodies_on_incident_actions_answer_400_to_staff_and_403_to_vendors(sent):
    for action in ("notes", "escalate"):
        path = f"/api/v1/incidents/{sent.incident.pk}/{action}/"
        for raw in CORPUS["non_object_bodies"]:
            _assert_refused(_post(sent.staff, path, raw), (action, raw))
            assert _post(sent.alice, path, raw).status_code == 403, (action, raw)


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/alert-rules/"])
def test_list_limits_and_offsets_past_bigint_answer_400_or_are_capped(sent, path):
    client, _ = _client(sent.staff)
    for value in CORPUS["limits"]:
        for param in ("limit", "offset"):
            response = client.get(path, {param: value})
            assert response.status_code in (200, 400), (param, value, response.status_code)
            if response.status_code == 400:
                assert param in response.json()
    assert client.get(path, {"limit": "99999999999999999999"}).status_code == 200  # capped at 1000
    assert client.get(path, {"offset": "99999999999999999999"}).status_code == 400


def test_report_dates_outside_1970_2100_answer_400_naming_the_field(sent):
    api, _ = _client(sent.staff)
    page, _ = _client(sent.staff)
    for value in CORPUS["dates"]:
        for field in ("since", "until"):
            response = api.get("/api/v1/incidents/reports/", {field: value})
            assert response.status_code == 400 and field in response.json(), (field, value)
            html = page.get("/ops/incidents/reports/", {field: value})
            assert html.status_code == 400 and field in html.content.decode(), (field, value)


def _form_cases(w):
    incident = f"/ops/incidents/{w.incident.pk}/"
    return [
        (w.staff, incident, {"action": "note", "message": "{}"}),
        (w.staff, incident, {"action": "escalate", "reason": "{}"}),
        (w.staff, incident, {"action": "assign", "assignee": "{}"}),
        (w.alice, "/org/rosewood-florals/dashboards/new/", {"name": "{}", "widgets": "[]"}),
        (
            w.alice,
            "/org/rosewood-florals/dashboards/new/",
            {"name": "d", "widgets": '[{"service": "{}", "metric": "m"}]'},
        ),
        (
            w.alice,
            "/org/rosewood-florals/alerts/rules/",
            {
                "name": "{}",
                "alert_type": "threshold",
                "metric_name": "m",
                "aggregation": "p95",
                "comparison": "above",
                "threshold": "1",
                "window_minutes": "5",
                "for_seconds": "60",
                "severity": "warning",
                "priority": "medium",
            },
        ),
        (
            w.alice,
            "/org/rosewood-florals/alerts/silences/",
            {"action": "create", "matchers": 'alertname="{}"', "hours": "1", "comment": "c"},
        ),
        (
            w.alice,
            "/org/rosewood-florals/alerts/silences/",
            {"action": "create", "matchers": 'alertname="A"', "hours": "1", "comment": "{}"},
        ),
        (
            w.alice,
            "/org/rosewood-florals/alerts/channels/",
            {"action": "create", "name": "{}", "kind": "email", "target": "a@example.com"},
        ),
    ]


def test_forms_refuse_nul_characters_in_every_field_with_400(sent, client):
    before = _stored()
    nul = [s for s in STRINGS if "\x00" in s and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)]
    for user, path, fields in _form_cases(sent):
        client.force_login(user)
        for value in nul:
            data = {k: v.replace("{}", value) for k, v in fields.items()}
            response = client.post(path, data)
            assert response.status_code == 400, (path, fields, response.status_code)
        assert client.get(path, {"q": "a\x00b"}).status_code == 400
    assert _stored() == before


def test_form_bytes_that_are_not_utf8_are_not_a_500(sent, client):
    client.force_login(sent.staff)
    raw = "action=note&message=%ED%A0%80%FF"  # a UTF-8-encoded lone surrogate and a stray byte
    response = client.generic(
        "POST", f"/ops/incidents/{sent.incident.pk}/", raw, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (302, 400)
