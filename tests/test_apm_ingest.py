"""Metric ingest: POST /api/v1/metrics/ with an organization API key, validation, COPY, partitions, create_api_key."""

import datetime as dt
import io
import json
import queue
import threading
import time

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from apm.services import (
    MetricRow,
    MetricsValidationError,
    api_key_create,
    metrics_copy,
    metrics_ingest,
    metrics_validate,
)
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.auth import hash_token
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import ApiKey

URL = "/api/v1/metrics/"


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall() if cur.description else None


def _stored():
    """Every stored point as (organization_id, service, metric_name, value), seen by the service context."""
    with service_context():
        return _rows("SELECT organization_id, service, metric_name, value FROM apm_metrics ORDER BY id")


@pytest.fixture
def frozen():
    with time_machine.travel(WEDNESDAY, tick=False):
        yield WEDNESDAY


@pytest.fixture
def keys(world, frozen):
    with service_context():
        world.key_a_row, world.key_a = api_key_create(organization=world.org_a, name="checkout")
        world.key_b_row, world.key_b = api_key_create(organization=world.org_b, name="web")
    return world


def _post(client, body, key=None, **headers):
    if key:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def _point(**overrides):
    point = {"service": "checkout-api", "name": "http.request.duration", "value": 120.5, "unit": "ms"}
    point.update(overrides)
    return point


# --- the organization comes from the key -------------------------------------------------


def test_ingest_stores_the_batch_under_the_key_organization(client, keys):
    body = {
        "metrics": [
            _point(value=100, timestamp="2026-06-10T11:59:00Z", tags={"route": "/pay"}),
            _point(value=200.25, timestamp=WEDNESDAY.timestamp() - 30),
            _point(name="http.requests", value=1, unit=None),
        ]
    }
    response = _post(client, body, keys.key_a)

    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 3}
    with service_context():
        rows = _rows(
            "SELECT organization_id, metric_name, value, unit, tags, recorded_at FROM apm_metrics ORDER BY value"
        )
    rows = [(*row[:4], json.loads(row[4]), row[5]) for row in rows]
    assert rows == [
        (keys.org_a.id, "http.requests", 1.0, "", {}, WEDNESDAY),
        (keys.org_a.id, "http.request.duration", 100.0, "ms", {"route": "/pay"}, WEDNESDAY - dt.timedelta(minutes=1)),
        (keys.org_a.id, "http.request.duration", 200.25, "ms", {}, WEDNESDAY - dt.timedelta(seconds=30)),
    ]


def test_timestamps_are_stored_to_the_microsecond_as_datetime_would_round_them(client, keys):
    # Epoch seconds become PostgreSQL's µs without a datetime in between (apm.ingest_json): the stored
    # value must be what datetime.fromtimestamp gives, half-µs cases included; ISO text keeps its µs.
    base = WEDNESDAY.timestamp()
    seconds = [base - 0.0000005, base - 1.2345675, base - 2.000001, base - 3.999999, base - 86399.5]
    body = [_point(value=i, timestamp=ts) for i, ts in enumerate(seconds)]
    body.append(_point(value=9, timestamp="2026-06-10T11:59:58.123457+02:00"))
    assert _post(client, body, keys.key_a).status_code == 202
    with service_context():
        stored = dict(_rows("SELECT value, recorded_at FROM apm_metrics"))
    expected = {float(i): dt.datetime.fromtimestamp(ts, dt.UTC) for i, ts in enumerate(seconds)}
    expected[9.0] = dt.datetime(2026, 6, 10, 9, 59, 58, 123457, tzinfo=dt.UTC)
    assert stored == expected


def test_a_bare_list_of_points_is_accepted(client, keys):
    response = _post(client, [_point(), _point(value=3)], keys.key_a)
    assert response.status_code == 202 and response.json() == {"accepted": 2}


def test_the_x_api_key_header_is_accepted(client, keys):
    response = _post(client, [_point()], HTTP_X_API_KEY=keys.key_b)
    assert response.status_code == 202
    assert [row[0] for row in _stored()] == [keys.org_b.id]


def test_another_organization_sees_none_of_the_points_in_raw_sql(client, keys):
    assert _post(client, [_point(), _point()], keys.key_a).status_code == 202

    with vendor_context(keys.org_b.id):
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]
    with vendor_context(keys.org_a.id):
        assert _rows("SELECT count(*) FROM apm_metrics") == [(2,)]
    # No context, no rows.
    assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def test_a_payload_naming_another_organization_is_refused_and_stores_nothing(client, keys):
    body = {"metrics": [_point(), _point(organization_id=str(keys.org_b.id))]}
    response = _post(client, body, keys.key_a)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 1, "field": "organization_id", "reason": "not allowed: the organization comes from the API key"}
    ]
    assert _stored() == []


def test_a_vendor_context_cannot_copy_rows_of_another_organization(keys):
    rows = [MetricRow(keys.org_b.id, "svc", "m", 1.0, WEDNESDAY)]
    with vendor_context(keys.org_a.id):
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic():
                metrics_copy(rows=rows)
    assert _stored() == []


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wso_not-a-key"},
        {"HTTP_X_API_KEY": "wso_not-a-key"},
        {"HTTP_AUTHORIZATION": "Token wso_not-a-key"},
    ],
    ids=["no-key", "unknown-bearer", "unknown-x-api-key", "wrong-scheme"],
)
def test_without_a_valid_key_the_answer_is_401_and_nothing_is_stored(client, keys, headers):
    response = _post(client, [_point()], **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert _stored() == []


def test_a_revoked_key_is_refused_with_401(client, keys):
    with service_context():
        ApiKey.objects.filter(pk=keys.key_a_row.pk).update(revoked_at=timezone.now())
    response = _post(client, [_point()], keys.key_a)
    assert response.status_code == 401
    assert _stored() == []


# --- bad batches ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"metrics": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ("", "body is empty"),
        ('"metrics"', "must be {"),
        ("42", "must be {"),
        ('{"metrics": {"service": "a"}}', "must be {"),
        ('{"points": []}', "unknown top-level field(s) points"),
        ("{}", 'must have a "metrics" list'),
        ('{"metrics": []}', "the batch is empty"),
        ("[]", "the batch is empty"),
    ],
    ids=[
        "truncated",
        "binary",
        "empty-body",
        "string",
        "number",
        "metrics-object",
        "unknown-top",
        "no-metrics",
        "empty-batch",
        "empty-list",
    ],
)
def test_a_body_that_is_not_a_batch_is_400_with_a_detail(client, keys, body, detail):
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert _stored() == []


def test_more_points_than_the_batch_limit_is_400_and_stores_nothing(client, keys, settings):
    assert settings.METRICS_MAX_BATCH == 10_000
    response = _post(client, [_point()] * 10_001, keys.key_a)
    assert response.status_code == 400
    assert response.json() == {"detail": "the batch has 10001 points; at most 10000 are accepted"}
    assert _stored() == []


def test_a_full_batch_of_ten_thousand_points_is_stored(client, keys):
    body = [_point(value=i, timestamp=WEDNESDAY.timestamp() - i) for i in range(10_000)]
    response = _post(client, body, keys.key_a)
    assert response.status_code == 202 and response.json() == {"accepted": 10_000}
    with vendor_context(keys.org_a.id):
        assert _rows("SELECT count(*), sum(value), min(recorded_at) FROM apm_metrics") == [
            (10_000, sum(range(10_000)), WEDNESDAY - dt.timedelta(seconds=9_999))
        ]


def test_a_body_larger_than_the_upload_limit_is_400(client, keys, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    response = _post(client, [_point(tags={"pad": "x" * 150})] * 20, keys.key_a)
    assert response.status_code == 400
    assert response.json() == {"detail": "the body is larger than 2000 bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)"}
    assert _stored() == []


def test_every_bad_field_of_every_point_is_named_and_nothing_is_stored(client, keys):
    body = (
        "["
        + ",".join(
            [
                json.dumps(_point()),  # 0: fine, but not stored either
                json.dumps({"name": "m", "value": 1}),  # 1: no service
                '{"service": "s", "name": "m", "value": NaN}',  # 2
                json.dumps(_point(value="12")),  # 3
                json.dumps(_point(value=True)),  # 4
                json.dumps(_point(timestamp="yesterday")),  # 5
                json.dumps(_point(timestamp="2026-06-10T11:00:00")),  # 6: no offset
                json.dumps(_point(timestamp="2026-03-01T00:00:00Z")),  # 7: > 90 days old
                json.dumps(_point(timestamp=WEDNESDAY.timestamp() + 301)),  # 8: > 5 minutes ahead
                json.dumps(_point(timestamp=WEDNESDAY.timestamp() * 1000)),  # 9: milliseconds
                json.dumps(_point(service="s" * 101)),  # 10: oversized
                json.dumps(_point(name="", unit="u" * 21)),  # 11: two bad fields
                json.dumps(_point(tags={"route": 5})),  # 12
                json.dumps(_point(ts=1)),  # 13: unknown field (a typo of timestamp)
                json.dumps("not an object"),  # 14
                '{"service": "s", "name": "m", "value": 1e999}',  # 15: overflows to infinity
            ]
        )
        + "]"
    )
    response = _post(client, body, keys.key_a)

    assert response.status_code == 400
    assert response.json() == {
        "error_count": 16,
        "errors": [
            {"index": 1, "field": "service", "reason": "is required"},
            {"index": 2, "field": "value", "reason": "must be a finite number"},
            {"index": 3, "field": "value", "reason": "must be a number"},
            {"index": 4, "field": "value", "reason": "must be a number"},
            {
                "index": 5,
                "field": "timestamp",
                "reason": "must be an ISO-8601 date-time (e.g. 2026-06-13T12:00:00Z) or epoch seconds",
            },
            {"index": 6, "field": "timestamp", "reason": "must include a UTC offset (e.g. Z or +01:00)"},
            {"index": 7, "field": "timestamp", "reason": "is older than the 90-day retention"},
            {"index": 8, "field": "timestamp", "reason": "is more than 5 minutes in the future"},
            {"index": 9, "field": "timestamp", "reason": "looks like epoch milliseconds; send epoch seconds"},
            {"index": 10, "field": "service", "reason": "must be at most 100 characters (got 101)"},
            {"index": 11, "field": "name", "reason": "must not be empty"},
            {"index": 11, "field": "unit", "reason": "must be at most 20 characters (got 21)"},
            {"index": 12, "field": "tags.route", "reason": "tag value must be a string"},
            {"index": 13, "field": "ts", "reason": "unknown field"},
            {"index": 14, "field": None, "reason": "must be a JSON object"},
            {"index": 15, "field": "value", "reason": "must be a finite number"},
        ],
    }
    assert _stored() == []


def test_timestamps_at_the_edges_of_the_window_are_accepted(keys):
    oldest = WEDNESDAY - dt.timedelta(days=90)
    newest = WEDNESDAY + dt.timedelta(minutes=5)
    with vendor_context(keys.org_a.id):
        written = metrics_ingest(
            organization_id=keys.org_a.id,
            payload=[_point(timestamp=oldest.isoformat()), _point(timestamp=newest.timestamp())],
            now=WEDNESDAY,
        )
        assert written == 2
        assert _rows("SELECT recorded_at FROM apm_metrics ORDER BY recorded_at") == [(oldest,), (newest,)]


def test_validation_reports_errors_without_touching_the_database(world):
    with pytest.raises(MetricsValidationError) as caught:
        metrics_validate(organization_id=world.org_a.id, payload=[_point(value=None), {}], now=WEDNESDAY)
    assert caught.value.errors == [
        {"index": 0, "field": "value", "reason": "is required"},
        {"index": 1, "field": "service", "reason": "is required"},
        {"index": 1, "field": "name", "reason": "is required"},
        {"index": 1, "field": "value", "reason": "is required"},
    ]


# --- partitions -----------------------------------------------------------------------------------


def _partitions():
    return [
        (name, bounds)
        for name, bounds in _rows(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'apm_metrics'::regclass ORDER BY 1"
        )
    ]


def test_the_partition_function_creates_missing_daily_utc_partitions(db):
    with service_context():
        assert _rows("SELECT apm_ensure_metric_partitions('2027-02-27', '2027-03-01')") == [(3,)]
        assert _rows("SELECT apm_ensure_metric_partitions('2027-02-28', '2027-03-02')") == [(1,)]
    mine = [p for p in _partitions() if p[0].startswith(("apm_metrics_202702", "apm_metrics_202703"))]
    assert mine == [
        ("apm_metrics_20270227", "FOR VALUES FROM ('2027-02-27 00:00:00+00') TO ('2027-02-28 00:00:00+00')"),
        ("apm_metrics_20270228", "FOR VALUES FROM ('2027-02-28 00:00:00+00') TO ('2027-03-01 00:00:00+00')"),
        ("apm_metrics_20270301", "FOR VALUES FROM ('2027-03-01 00:00:00+00') TO ('2027-03-02 00:00:00+00')"),
        ("apm_metrics_20270302", "FOR VALUES FROM ('2027-03-02 00:00:00+00') TO ('2027-03-03 00:00:00+00')"),
    ]
    # The application role reaches rows only through the parent, where RLS applies.
    assert _rows("SELECT has_table_privilege(current_user, 'apm_metrics_20270301', 'SELECT')") == [(False,)]


def test_copy_creates_the_partitions_of_the_rows_days_only(world):
    sydney = dt.timezone(dt.timedelta(hours=10))
    rows = [
        MetricRow(world.org_a.id, "svc", "m", 1.0, dt.datetime(2027, 5, 1, 23, 59, tzinfo=dt.UTC)),
        # 01:30 in Sydney on 3 May is still 2 May in UTC: partitions are UTC days.
        MetricRow(world.org_a.id, "svc", "m", 2.0, dt.datetime(2027, 5, 3, 1, 30, tzinfo=sydney)),
        MetricRow(world.org_a.id, "svc", "m", 3.0, dt.datetime(2027, 5, 20, 8, 0, tzinfo=dt.UTC)),
    ]
    with service_context():
        assert metrics_copy(rows=rows) == 3
        assert _rows("SELECT tableoid::regclass::text, value FROM apm_metrics ORDER BY value") == [
            ("apm_metrics_20270501", 1.0),
            ("apm_metrics_20270502", 2.0),
            ("apm_metrics_20270520", 3.0),
        ]
    # The days in between get no partition.
    assert [name for name, _ in _partitions() if name.startswith("apm_metrics_202705")] == [
        "apm_metrics_20270501",
        "apm_metrics_20270502",
        "apm_metrics_20270520",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_creating_the_same_partition_do_not_fail():
    day = "2031-03-01"
    results: queue.Queue = queue.Queue()

    def second():
        try:
            with service_context(), connection.cursor() as cur:  # the function needs a platform context
                cur.execute("SELECT pg_backend_pid()")
                results.put(("pid", cur.fetchone()[0]))
                cur.execute("SELECT apm_ensure_metric_partitions(%s, %s)", [day, day])
                results.put(("created", cur.fetchone()[0]))
        except Exception as exc:  # reported to the main thread
            results.put(("error", exc))
        finally:
            connections.close_all()

    with service_context():
        assert _rows("SELECT apm_ensure_metric_partitions(%s, %s)", [day, day]) == [(1,)]
        worker = threading.Thread(target=second)
        worker.start()
        kind, pid = results.get(timeout=10)
        assert kind == "pid"
        # Wait until the second transaction is blocked on our lock of apm_metrics.
        deadline = time.monotonic() + 10
        while _rows("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]) != [("Lock",)]:
            assert time.monotonic() < deadline, "the second transaction never waited for the first"
    worker.join(timeout=10)
    assert results.get(timeout=1) == ("created", 0)


# --- create_api_key -------------------------------------------------------------------------------


def test_create_api_key_prints_a_key_that_works_and_stores_only_its_hash(client, world, frozen):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "--org", "rosewood-florals", "--name", "checkout", stdout=out, stderr=err)
    raw = out.getvalue().strip()

    assert raw.startswith("wso_") and len(raw) == 4 + 43 and "\n" not in raw
    assert "shown once" in err.getvalue() and raw not in err.getvalue()
    with service_context():
        key = ApiKey.objects.get()
    assert (key.organization_id, key.name, key.prefix, key.key_hash) == (
        world.org_a.id,
        "checkout",
        raw[:12],
        hash_token(raw),
    )
    response = _post(client, [_point()], raw)
    assert response.status_code == 202
    assert [row[0] for row in _stored()] == [world.org_a.id]


def test_create_api_key_key_only_prints_just_the_key(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "--org", "bloom-and-vine", "--key-only", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("wso_") and err.getvalue() == ""
    with service_context():
        assert ApiKey.objects.get(key_hash=hash_token(raw)).organization_id == world.org_b.id


def test_create_api_key_for_an_unknown_organization_fails_cleanly(world):
    with pytest.raises(CommandError, match="no organization with slug 'no-such-org'"):
        call_command("create_api_key", "--org", "no-such-org", stdout=io.StringIO())
    with service_context():
        assert ApiKey.objects.count() == 0


def test_create_api_key_refuses_an_overlong_name(world):
    with pytest.raises(CommandError, match="--name: must be at most 100 characters"):
        call_command("create_api_key", "--org", "rosewood-florals", "--name", "n" * 101, stdout=io.StringIO())


# --- OpenAPI ----------------------------------------------------------------------------------------


def test_the_ingest_endpoint_is_described_in_the_openapi_schema(db):
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(patterns=[path("api/v1/", include("apm.urls"))]).get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/metrics/"]["post"]
    assert operation["operationId"] == "metrics_ingest"
    assert set(operation["responses"]) == {"202", "400", "401", "403", "404", "413", "415", "429"}  # errors documented
    assert operation["security"] == [{"apiKey": []}]
    batch = schema["components"]["schemas"]["MetricBatch"]
    assert batch["required"] == ["metrics"]
