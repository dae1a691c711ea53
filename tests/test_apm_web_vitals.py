"""POST /api/v1/web-vitals/: web-vitals metric objects (the shared sample as is) stored as metrics."""

import json

import pytest
import time_machine
from django.db import connection

from apm.services import api_key_create
from tests.conftest import SAMPLES_DIR, WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

URL = "/api/v1/web-vitals/"
SAMPLE = (SAMPLES_DIR / "web-vitals" / "lcp.json").read_bytes()


def _rows(sql):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


@pytest.fixture
def keys(world):
    with service_context():
        _, world.key_a = api_key_create(organization=world.org_a, name="web")
        _, world.key_b = api_key_create(organization=world.org_b, name="web")
    return world


def _post(client, body, key):
    data = body if isinstance(body, bytes) else json.dumps(body)
    with time_machine.travel(WEDNESDAY, tick=False):
        return client.post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_the_sample_lcp_is_stored_as_a_metric_of_its_organization(client, keys):
    response = _post(client, SAMPLE, keys.key_b)  # the sample names bloom-and-vine
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 1}
    with vendor_context(keys.org_b.id):
        rows = _rows("SELECT service, metric_name, value, unit, tags, recorded_at FROM apm_metrics")
    rows = [(*r[:4], json.loads(r[4]), r[5]) for r in rows]
    assert rows == [
        (
            "web-vitals",
            "web_vitals.LCP",
            3120.4,
            "ms",
            {"rating": "needs-improvement", "page": "/weddings/2026-06-13/timeline", "navigation_type": "navigate"},
            WEDNESDAY,
        )
    ]
    with vendor_context(keys.org_a.id):
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def test_the_sample_sent_with_another_organization_key_is_refused(client, keys):
    response = _post(client, SAMPLE, keys.key_a)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "organization"
    with service_context():
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def test_a_list_of_vitals_is_accepted_and_cls_is_unitless(client, keys):
    body = [{"name": "CLS", "value": 0.12, "rating": "needs-improvement"}, {"name": "INP", "value": 180}]
    assert _post(client, body, keys.key_a).status_code == 202
    with vendor_context(keys.org_a.id):
        assert _rows("SELECT metric_name, unit FROM apm_metrics ORDER BY id") == [
            ("web_vitals.CLS", ""),
            ("web_vitals.INP", "ms"),
        ]


def test_bad_vitals_name_every_field(client, keys):
    body = [{"name": "LCP", "value": "slow"}, {"name": "XYZ", "value": 1, "rating": "meh", "extra": 1}]
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400
    assert {(e["index"], e["field"]) for e in response.json()["errors"]} == {(1, "extra"), (1, "name"), (1, "rating")}
    response = _post(client, [{"name": "LCP", "value": "slow"}], keys.key_a)
    assert response.json()["errors"] == [{"index": 0, "field": "value", "reason": "must be a number"}]


def test_without_a_key_the_answer_is_401(client, keys):
    assert client.post(URL, data=SAMPLE, content_type="application/json").status_code == 401
