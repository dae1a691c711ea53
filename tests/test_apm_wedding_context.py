"""wedding_context of metric points and error reports: the organization's local date at the point's time, set at ingest.

Shape (seed contract, also read by the WS-259 columns of error_reports):
``{"is_wedding_day": bool, "is_weekend": bool, "wedding_id": uuid text | null}``.
"""

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection

from apm.services import api_key_create
from tests.conftest import SATURDAY
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

# The seed's example: an organization's wedding-day points (newest first).
SEED_QUERY = (
    "SELECT service, metric_name, value, recorded_at FROM apm_metrics"
    " WHERE organization_id = %s AND (wedding_context->>'is_wedding_day')::boolean = true"
    " ORDER BY recorded_at DESC LIMIT 100"
)


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


@pytest.fixture
def keys(world):
    with time_machine.travel(SATURDAY, tick=False), service_context():
        world.key_a = api_key_create(organization=world.org_a, name="ingest")[1]
        world.key_b = api_key_create(organization=world.org_b, name="ingest")[1]
        # Bloom & Vine (Sydney): a wedding on Saturday 13 June, local date; a cancelled one on Sunday.
        world.wedding = Wedding.objects.create(
            organization=world.org_b,
            wedding_date=dt.date(2026, 6, 13),
            couple_name="Mia & Leo",
            ceremony_time=dt.time(15, 0),
        )
        Wedding.objects.create(
            organization=world.org_b,
            wedding_date=dt.date(2026, 6, 13),
            couple_name="Later",
            ceremony_time=dt.time(18, 0),
        )
        Wedding.objects.create(
            organization=world.org_b,
            wedding_date=dt.date(2026, 6, 14),
            couple_name="Off",
            status=Wedding.Status.CANCELLED,
        )
    return world


def _contexts(org, table="apm_metrics", time_column="recorded_at"):
    with vendor_context(org.id):
        return [
            (at, json.loads(ctx))
            for at, ctx in _rows(f"SELECT {time_column}, wedding_context FROM {table} ORDER BY {time_column}")
        ]


def test_metric_points_get_the_context_of_the_organization_local_date(client, keys):
    # 13:00 UTC Friday is 23:00 Friday in Sydney; 15:00 UTC Friday is 01:00 Saturday there.
    friday_late, saturday_early = "2026-06-12T13:00:00Z", "2026-06-12T15:00:00Z"
    sunday = "2026-06-13T15:00:00Z"  # 01:00 Sunday in Sydney: the cancelled wedding does not count
    body = {
        "metrics": [
            {"service": "web", "name": "ttfb", "value": v, "timestamp": ts}
            for v, ts in ((1, friday_late), (2, saturday_early), (3, sunday))
        ]
    }
    with time_machine.travel(SATURDAY + dt.timedelta(hours=4), tick=False):
        response = client.post(
            "/api/v1/metrics/",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {keys.key_b}",
        )
    assert response.status_code == 202, response.content
    assert [ctx for _, ctx in _contexts(keys.org_b)] == [
        {"is_wedding_day": False, "is_weekend": False, "wedding_id": None},
        # Two weddings that day: the earliest ceremony's id.
        {"is_wedding_day": True, "is_weekend": True, "wedding_id": str(keys.wedding.id)},
        {"is_wedding_day": False, "is_weekend": True, "wedding_id": None},
    ]


def test_the_same_instant_is_a_weekday_in_london_and_a_saturday_in_sydney(client, keys):
    at = "2026-06-12T15:00:00Z"
    with time_machine.travel(SATURDAY, tick=False):
        for key in (keys.key_a, keys.key_b):
            response = client.post(
                "/api/v1/metrics/",
                content_type="application/json",
                data=json.dumps([{"service": "web", "name": "ttfb", "value": 1, "timestamp": at}]),
                HTTP_AUTHORIZATION=f"Bearer {key}",
            )
            assert response.status_code == 202
    assert _contexts(keys.org_a)[0][1] == {"is_wedding_day": False, "is_weekend": False, "wedding_id": None}
    assert _contexts(keys.org_b)[0][1]["is_wedding_day"] is True


def test_prometheus_text_and_slow_path_batches_get_it_too(client, keys):
    with time_machine.travel(SATURDAY, tick=False):
        text = client.post(
            "/api/v1/metrics/?service=web",
            data="queue_depth 3\n",
            content_type="text/plain",
            HTTP_AUTHORIZATION=f"Bearer {keys.key_b}",
        )
        # A space instead of T: Python's ISO parser takes it, msgspec's does not (the validating slow path stores it).
        slow = client.post(
            "/api/v1/metrics/",
            content_type="application/json",
            data=json.dumps([{"service": "web", "name": "x", "value": 1, "timestamp": "2026-06-13 11:00:00+00:00"}]),
            HTTP_AUTHORIZATION=f"Bearer {keys.key_b}",
        )
    assert text.status_code == slow.status_code == 202
    assert [ctx["wedding_id"] for _, ctx in _contexts(keys.org_b)] == [str(keys.wedding.id)] * 2


def test_error_reports_get_the_context_of_their_occurred_at(client, keys):
    report = {
        "service": "checkout",
        "type": "TimeoutError",
        "message": "payment gateway timed out",
        "timestamp": "2026-06-12T15:00:00Z",
    }
    with time_machine.travel(SATURDAY, tick=False):
        response = client.post(
            "/api/v1/errors/",
            data=json.dumps(report),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {keys.key_b}",
        )
    assert response.status_code == 202, response.content
    [(_, context)] = _contexts(keys.org_b, "error_reports", "occurred_at")
    assert context == {"is_wedding_day": True, "is_weekend": True, "wedding_id": str(keys.wedding.id)}
    assert _contexts(keys.org_a, "error_reports", "occurred_at") == []  # the outsider


def test_the_seed_query_reads_the_partial_wedding_day_index(client, keys):
    with time_machine.travel(SATURDAY, tick=False):
        body = [{"service": "web", "name": "ttfb", "value": i, "timestamp": "2026-06-12T15:00:00Z"} for i in range(3)]
        assert (
            client.post(
                "/api/v1/metrics/",
                data=json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {keys.key_b}",
            ).status_code
            == 202
        )
    with vendor_context(keys.org_b.id):
        assert len(_rows(SEED_QUERY, [keys.org_b.id])) == 3
        # At a handful of rows a scan is cheaper; with scans priced out, the plan shows the index matches the
        # query's predicate (bench/wedding_context.py shows the planner choosing it by itself at 10M rows).
        _rows("SELECT set_config('enable_seqscan', 'off', true)")
        plan = "\n".join(r[0] for r in _rows("EXPLAIN " + SEED_QUERY, [keys.org_b.id]))
    assert "apm_metrics_20260612_organization_id_recorded_at_idx" in plan, plan
