"""Business events: POST /api/v1/business-events/ with an organization API key, whole-batch validation, COPY,
the revenue index, and row-level security on every business table as the application role."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from apm.services import api_key_create
from business.models import BusinessEvent
from business.services import events_copy, events_validate
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

URL = "/api/v1/business-events/"
TABLES = (
    "business_events",
    "conversion_funnels",
    "conversion_funnel_steps",
    "feature_usage",
    "revenue_metrics",
    "user_segments",
    "user_segment_counts",
    "business_alert_rules",
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def keys(world):
    with time_machine.travel(WEDNESDAY, tick=False):
        with service_context():
            world.key_a = api_key_create(organization=world.org_a, name="platform")[1]
            world.key_b = api_key_create(organization=world.org_b, name="platform")[1]
        yield world


def _post(client, body, key):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def _stored():
    with service_context():
        return list(
            BusinessEvent.objects.order_by("id").values_list(
                "organization_id", "event_type", "actor_id", "revenue_impact", "currency", "timestamp", "properties"
            )
        )


def test_a_batch_is_stored_for_the_keys_organization_in_order(client, keys):
    body = {
        "events": [
            {
                "event_type": "payment_failed",
                "timestamp": "2026-06-10T11:59:00+01:00",
                "actor_id": "client-1",
                "revenue_impact": "165.50",
                "currency": "GBP",
                "properties": {"provider": "stripe"},
            },
            {"event_type": "rsvp_submitted", "timestamp": WEDNESDAY.timestamp() - 60, "actor_id": "guest-9"},
            {"event_type": "booking_created", "revenue_impact": 1200, "currency": "EUR"},
        ]
    }
    response = _post(client, body, keys.key_a)
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 3}
    rows = _stored()
    assert [r[0] for r in rows] == [keys.org_a.id] * 3
    assert rows[0][1:6] == (
        "payment_failed",
        "client-1",
        Decimal("165.5000"),
        "GBP",
        dt.datetime(2026, 6, 10, 10, 59, tzinfo=dt.UTC),
    )
    assert rows[0][6] == {"provider": "stripe"}
    assert rows[1][1] == "rsvp_submitted" and rows[1][3] is None and rows[1][4] == ""
    assert rows[2][5] == WEDNESDAY  # no timestamp: now


@pytest.mark.parametrize(
    ("event", "field", "reason"),
    [
        ({"event_type": "refund_issued"}, "event_type", "must be one of"),
        ({}, "event_type", "is required"),
        ({"event_type": "payment_failed", "revenue_impact": 10}, "currency", "go together"),
        ({"event_type": "payment_failed", "revenue_impact": 10, "currency": "gbp"}, "currency", "ISO 4217"),
        ({"event_type": "payment_failed", "revenue_impact": 10, "currency": "ZZZ"}, "currency", "ISO 4217"),
        (
            {"event_type": "payment_failed", "revenue_impact": "12.345678", "currency": "GBP"},
            "revenue_impact",
            "decimal places",
        ),
        ({"event_type": "payment_failed", "revenue_impact": "lots", "currency": "GBP"}, "revenue_impact", "decimal"),
        ({"event_type": "payment_failed", "revenue_impact": 1e15, "currency": "GBP"}, "revenue_impact", "10^14"),
        ({"event_type": "gallery_viewed", "timestamp": "2026-01-01T00:00:00Z"}, "timestamp", "older than 90 days"),
        ({"event_type": "gallery_viewed", "timestamp": "2026-06-10T13:00:00Z"}, "timestamp", "in the future"),
        ({"event_type": "gallery_viewed", "timestamp": "2026-06-10 12:00"}, "timestamp", "RFC 3339"),
        ({"event_type": "gallery_viewed", "timestamp": 1781092800000}, "timestamp", "milliseconds"),
        ({"event_type": "gallery_viewed", "actor_id": "x" * 101}, "actor_id", "at most 100"),
        ({"event_type": "gallery_viewed", "properties": ["a"]}, "properties", "JSON object"),
        ({"event_type": "gallery_viewed", "properties": {"a": "x" * 9000}}, "properties", "8192 bytes"),
        ({"event_type": "gallery_viewed", "organization_id": "x"}, "organization_id", "the API key's"),
        ({"event_type": "gallery_viewed", "colour": "x"}, "colour", "not a known field"),
    ],
)
def test_a_bad_event_refuses_the_whole_batch_naming_its_index_and_field(client, keys, event, field, reason):
    body = {"events": [{"event_type": "rsvp_submitted"}, event]}
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e["index"] == 1 and e["field"] == field and reason in e["reason"] for e in errors), errors
    assert _stored() == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("not json", "JSON"),
        ('{"events": []}', "empty"),
        ('{"events": {}}', "list"),
        ('[{"event_type": "rsvp_submitted"}]', "JSON object"),
        ('{"events": [{"event_type": "rsvp_submitted", "properties": {"a": "\\u0000"}}]}', "NUL"),
        ("", "empty"),
    ],
)
def test_a_body_that_is_not_a_batch_answers_400_with_the_reason(client, keys, body, detail):
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400
    assert detail.lower() in response.json()["detail"].lower()
    assert _stored() == []


def test_too_many_events_are_refused(client, keys, settings):
    settings.BUSINESS_EVENTS_MAX_BATCH = 3
    response = _post(client, {"events": [{"event_type": "gallery_viewed"}] * 4}, keys.key_a)
    assert response.status_code == 400 and "at most 3" in response.json()["detail"]


def test_no_key_or_a_bad_key_answers_401_and_stores_nothing(client, keys):
    assert client.post(URL, data="{}", content_type="application/json").status_code == 401
    assert _post(client, {"events": [{"event_type": "gallery_viewed"}]}, "wso_not-a-key").status_code == 401
    assert _stored() == []


def test_a_vendor_context_cannot_copy_another_organizations_events(keys):
    rows = events_validate(
        organization_id=keys.org_b.id, payload={"events": [{"event_type": "gallery_viewed"}]}, now=WEDNESDAY
    )
    with pytest.raises(DatabaseError, match="row-level security"), vendor_context(keys.org_a.id):
        events_copy(rows=rows)
    assert _stored() == []


def test_the_revenue_index_is_partial_and_descending(db):
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_business_events_revenue'")
        (definition,) = cur.fetchone()
    assert '(revenue_impact DESC, "timestamp" DESC)' in definition
    assert "WHERE (revenue_impact IS NOT NULL)" in definition


@pytest.mark.parametrize("table", TABLES)
def test_every_business_table_has_forced_rls_and_hides_rows_from_outsiders(world, table):
    """As the application role: a row of org_a is seen by org_a and staff, not by org_b nor without context."""
    from tests.factories import make_business_rows

    make_business_rows(world.org_a)
    with connection.cursor() as cur:
        cur.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table])
        assert cur.fetchone() == (True, True)

    def count():
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed table name
            return cur.fetchone()[0]

    with transaction.atomic():
        assert count() == 0  # no context: no rows
    with vendor_context(world.org_a.id):
        assert count() >= 1
    with vendor_context(world.org_b.id):
        assert count() == 0
    with service_context():
        assert count() >= 1


def test_the_fast_path_stores_exactly_what_the_validating_path_would(keys):
    from business.ingest_json import _fast_rows

    payload = {
        "events": [
            {
                "event_type": "payment_failed",
                "timestamp": "2026-06-10T11:59:00.123456+01:00",
                "actor_id": "c1",
                "revenue_impact": 165.5,
                "currency": "GBP",
                "properties": {"provider": "stripe", "n": [1, {"a": "é"}]},
            },
            {
                "event_type": "rsvp_submitted",
                "timestamp": WEDNESDAY.timestamp() - 60.5,
                "actor_id": None,
                "properties": None,
            },
            {"event_type": "booking_created", "revenue_impact": "1200.0001", "currency": "JPY"},
        ]
    }
    body = json.dumps(payload).encode()
    fast = _fast_rows(body, organization_id=keys.org_a.id, now=WEDNESDAY)
    slow = [
        tuple(r.__dict__.values())
        for r in events_validate(organization_id=keys.org_a.id, payload=payload, now=WEDNESDAY)
    ]
    assert fast is not None and len(fast) == 3
    for f, s in zip(fast, slow, strict=True):
        assert f[:3] == s[:3] and f[4:] == s[4:]
        assert json.loads(f[3]) == json.loads(s[3])


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"event_type": "gallery_viewed", "properties": ' + b'{"a":' * 70 + b"1" + b"}" * 70 + b"}]}",
        b'{"events": [{"event_type": "gallery_viewed", "properties": {"a": "\\ud800"}}]}',
        b'{"events": [{"event_type": "gallery_viewed", "timestamp": "2026-06-10T11:00:00+16:00"}]}',
    ],
)
def test_what_the_fast_path_cannot_vouch_for_goes_to_the_validating_path(client, keys, body):
    from business.ingest_json import _fast_rows

    assert _fast_rows(body, organization_id=keys.org_a.id, now=WEDNESDAY) is None
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400 and _stored() == []


def test_every_business_sql_function_is_installed_as_its_newest_file_says(db):
    """STYLE.md: the newest ``.vN.sql`` file is the truth a reader can trust."""
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parent.parent / "business" / "sql" / "functions").glob("*.v*.sql"))
    assert len(files) == 6
    for path in files:
        name = path.name.split(".")[0]
        text = path.read_text()
        body = text[text.index("$$") + 2 : text.rindex("$$")]
        with connection.cursor() as cur:
            cur.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [name])
            (source,) = cur.fetchone()
        assert source.strip() == body.strip(), name
