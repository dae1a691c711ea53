"""WS-259's performance tables (issue 18 §2): filled set-based from ingest, shown on pages, hidden from outsiders.

core_web_vitals, api_performance and user_journey_performance are tenant tables: every RLS test runs as
the application role (the suite connects as it). database_performance is staff-only.
"""

import datetime as dt
import json

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from apm import tasks
from apm.beat import BEAT_SCHEDULE
from apm.models import ApiPerformance, CoreWebVitals, UserJourneyPerformance
from apm.performance import performance_rollup
from apm.services import MetricRow, api_key_create, metrics_copy
from dbmonitor import services as dbmonitor_services
from dbmonitor.models import DatabasePerformance
from dbmonitor.performance import database_performance_rollup, top_queries
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

NOW = WEDNESDAY.replace(minute=30)
MIN = dt.timedelta(minutes=1)
TENANT_TABLES = ["core_web_vitals", "api_performance", "user_journey_performance"]


def _count(table):
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        return cur.fetchone()[0]


def _api_points(org, minute):
    """One minute of checkout timings: 20 requests, 2 of them 5xx, plus a point without an endpoint."""
    rows = [
        MetricRow(
            org.id,
            "checkout-api",
            "http.server.duration",
            float(10 * (i + 1)),
            minute + i * dt.timedelta(seconds=2),
            "ms",
            {"route": "/api/checkout", "status_code": "500" if i in (3, 7) else "200"},
        )
        for i in range(20)
    ]
    rows.append(MetricRow(org.id, "checkout-api", "http.server.duration", 5000.0, minute, "ms", {}))
    rows.append(MetricRow(org.id, "checkout-api", "http.server.duration", 0.25, minute, "s", {"route": "/api/pay"}))
    return rows


@pytest.fixture
def filled(world):
    """org A: a minute of endpoint timings, web vitals through the API, three RSVP journeys; rolled up at NOW."""
    minute = NOW.replace(second=0) - 2 * MIN
    with service_context():
        metrics_copy(rows=_api_points(world.org_a, minute))
        _, key = api_key_create(organization=world.org_a, name="web")
    vitals = [
        {"name": name, "value": value, "page": "/rsvp", "device": "mobile"}
        for name, values in (
            ("LCP", (1200, 2400, 2500, 2600)),
            ("INP", (80, 120, 180, 520)),
            ("CLS", (0.01, 0.05, 0.3, 0.4)),
            ("FCP", (900, 1000, 1100, 3500)),
            ("TTFB", (100, 200, 300, 2000)),
        )
        for value in values
    ]
    vitals.append({"name": "LCP", "value": 5000, "page": "/rsvp", "device": "desktop"})
    from django.test import Client

    with time_machine.travel(minute, tick=False):
        response = Client().post(
            "/api/v1/web-vitals/",
            data=json.dumps(vitals),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert response.status_code == 202, response.content
    journey_rows = []
    for run, (outcome_2, reached) in enumerate((("ok", 3), ("ok", 3), ("failed", 2))):
        for index, (step, ms) in enumerate((("open_form", 300.0), ("submit", 900.0), ("confirmation", 200.0)), 1):
            if index > reached:
                break
            journey_rows.append(
                MetricRow(
                    world.org_a.id,
                    "rsvp-web",
                    "journey.step",
                    ms + run * 10,
                    minute + (index + run) * dt.timedelta(seconds=5),
                    "ms",
                    {
                        "journey": "rsvp",
                        "journey_id": f"run-{run}",
                        "step": step,
                        "step_index": str(index),
                        "steps": "3",
                        "outcome": outcome_2 if index == 2 else "ok",
                    },
                )
            )
    with service_context():
        metrics_copy(rows=journey_rows)
        # Ingest time is the database's now(): roll up around it.
        with connection.cursor() as cur:
            cur.execute("SELECT now()")
            world.db_now = cur.fetchone()[0]
        world.written = performance_rollup(now=world.db_now + MIN)
    world.minute = minute
    return world


def test_api_performance_has_each_endpoints_minute_percentiles_and_error_rate(filled):
    with service_context():
        rows = {r.endpoint: r for r in ApiPerformance.objects.all()}
    checkout, pay = rows["/api/checkout"], rows["/api/pay"]
    assert set(rows) == {"/api/checkout", "/api/pay"}  # the point without an endpoint is no endpoint's
    assert (checkout.request_count, checkout.error_count, checkout.error_rate) == (20, 2, 0.1)
    assert checkout.p50_ms == pytest.approx(105.0) and checkout.p95_ms == pytest.approx(190.5)
    assert checkout.max_ms == 200.0 and checkout.bucket_start == filled.minute
    assert pay.p50_ms == pytest.approx(250.0)  # seconds become ms
    assert filled.written["api_performance"] == 2


def test_a_second_pass_recomputes_the_same_buckets_without_duplicates(filled):
    with service_context():
        metrics_copy(
            rows=[
                MetricRow(
                    filled.org_a.id,
                    "checkout-api",
                    "http.server.duration",
                    400.0,
                    filled.minute + dt.timedelta(seconds=50),
                    "ms",
                    {"route": "/api/checkout", "status_code": "503"},
                )
            ]
        )
        performance_rollup(now=filled.db_now + 2 * MIN)
        checkout = ApiPerformance.objects.get(endpoint="/api/checkout")
        assert ApiPerformance.objects.count() == 2
    assert (checkout.request_count, checkout.error_count, checkout.max_ms) == (21, 3, 400.0)


def test_core_web_vitals_are_p75_per_page_and_device_with_the_libraries_ratings(filled):
    with service_context():
        mobile = CoreWebVitals.objects.get(device_class="mobile")
        desktop = CoreWebVitals.objects.get(device_class="desktop")
    # p75 (percentile_cont) of 4 values v1..v4 is v3 + 0.25 (v4 - v3).
    assert mobile.lcp_ms == pytest.approx(2525.0) and mobile.lcp_rating == "needs-improvement"
    assert mobile.inp_ms == pytest.approx(265.0) and mobile.inp_rating == "needs-improvement"
    assert mobile.cls == pytest.approx(0.325) and mobile.cls_rating == "poor"
    assert mobile.fcp_ms == pytest.approx(1700.0) and mobile.fcp_rating == "good"
    assert mobile.ttfb_ms == pytest.approx(725.0) and mobile.ttfb_rating == "good"
    assert (mobile.samples, mobile.page) == (4, "/rsvp")
    assert (desktop.lcp_ms, desktop.lcp_rating, desktop.inp_ms, desktop.inp_rating) == (5000.0, "poor", None, "")


@pytest.mark.parametrize(
    ("name", "value", "rating"),
    [
        ("LCP", 2500, "good"),
        ("LCP", 2501, "needs-improvement"),
        ("LCP", 4000, "needs-improvement"),
        ("LCP", 4001, "poor"),
        ("INP", 200, "good"),
        ("INP", 500.5, "poor"),
        ("CLS", 0.1, "good"),
        ("CLS", 0.25, "needs-improvement"),
        ("CLS", 0.26, "poor"),
        ("FCP", 1800, "good"),
        ("FCP", 3001, "poor"),
        ("TTFB", 800, "good"),
        ("TTFB", 1800, "needs-improvement"),
        ("TTFB", 1801, "poor"),
        ("XYZ", 1, None),
    ],
)
def test_web_vitals_rating_uses_the_web_vitals_thresholds(db, name, value, rating):
    with connection.cursor() as cur:
        cur.execute("SELECT web_vitals_rating(%s, %s)", [name, value])
        assert cur.fetchone()[0] == rating


def test_a_web_vital_with_an_unknown_device_is_a_400_naming_the_field(world, client):
    with service_context():
        _, key = api_key_create(organization=world.org_a, name="web")
    response = client.post(
        "/api/v1/web-vitals/",
        data=json.dumps({"name": "LCP", "value": 1, "device": "fridge"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400
    assert any(e["field"] == "device" for e in response.json()["errors"])


def test_user_journeys_have_each_steps_durations_and_the_success_rate(filled):
    with service_context():
        (row,) = UserJourneyPerformance.objects.all()
    assert (row.journey, row.journeys_started, row.journeys_completed) == ("rsvp", 3, 2)
    assert row.success_rate == pytest.approx(2 / 3)
    assert [(s["index"], s["step"], s["count"], s["failed"]) for s in row.steps] == [
        (1, "open_form", 3, 0),
        (2, "submit", 3, 1),
        (3, "confirmation", 2, 0),
    ]
    assert row.steps[1]["p50_ms"] == 910.0
    assert row.p50_total_ms == pytest.approx(1415.0)  # the completed runs took 1400 and 1430 ms


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_an_outsider_sees_none_of_the_performance_rows_and_cannot_write_them(filled, table):
    with service_context():
        with connection.cursor() as cur:
            cur.execute(f"SELECT row_to_json(t)::text FROM {table} t LIMIT 1")  # noqa: S608 (fixed names)
            row = json.loads(cur.fetchone()[0])
    with vendor_context(filled.org_a.id):
        assert _count(table) >= 1
    with vendor_context(filled.org_b.id):
        assert _count(table) == 0
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {table} SET updated_at = now()")  # noqa: S608
            assert cur.rowcount == 0
        row["id"] = row["id"] + 100_000
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cur:  # a row of org A written from org B's context is refused
                cur.execute(
                    f"INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, %s)",  # noqa: S608
                    [json.dumps(row)],
                )
    assert _count(table) == 0  # no context, no rows


def test_rollups_need_a_platform_context(filled):
    with pytest.raises(DatabaseError, match="staff or service"), vendor_context(filled.org_a.id):
        performance_rollup(now=NOW)
    with pytest.raises(ValueError):
        performance_rollup(now=dt.datetime(2026, 1, 1))


def test_the_rollup_runs_every_minute_from_the_beat(filled):
    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "apm.tasks.rollup_performance")
    assert entry["schedule"] == 60.0
    assert set(tasks.rollup_performance()) == set(TENANT_TABLES)


def test_database_performance_is_per_query_fingerprint_and_staff_only(world):
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with service_context():
        dbmonitor_services.db_snapshot_capture(now=t0)
        for i in range(5):
            with connection.cursor() as cur:
                cur.execute("WITH ws259_perf_probe AS (SELECT %s::int AS v) SELECT v FROM ws259_perf_probe", [i])
        dbmonitor_services.db_snapshot_capture(now=t0 + MIN)
        assert database_performance_rollup(now=t0 + MIN) >= 1
        probe = DatabasePerformance.objects.get(query__contains="ws259_perf_probe")
        top = top_queries(now=t0 + MIN, limit=1000)
    assert probe.calls == 5 and probe.bucket_start == (t0 + MIN).replace(minute=0, second=0)
    assert probe.mean_ms == pytest.approx(probe.total_ms / 5)
    assert any(q["queryid"] == probe.queryid for q in top)
    with vendor_context(world.org_a.id):  # platform data: no vendor sees it
        assert _count("database_performance") == 0
    assert _count("database_performance") == 0


# --- pages ------------------------------------------------------------------------------------


def test_the_vendor_apm_page_shows_endpoints_vitals_and_journeys_of_its_own_organization(filled, client):
    client.force_login(filled.alice)
    with time_machine.travel(NOW + MIN, tick=False):
        page = client.get(f"/org/{filled.org_a.slug}/apm/")
        other = client.get(f"/org/{filled.org_b.slug}/apm/")
    html = page.content.decode()
    assert page.status_code == 200 and other.status_code == 404
    assert "/api/checkout" in html and "Endpoint p95 latency" in html and "<svg" in html
    assert "needs improvement" in html and "✖ poor" in html
    assert "2 of 3 completed" in html and "open_form → submit → confirmation" in html
    client.force_login(filled.bob)
    with time_machine.travel(NOW + MIN, tick=False):
        bob = client.get(f"/org/{filled.org_b.slug}/apm/").content.decode()
    assert "/api/checkout" not in bob and "No endpoint timings" in bob


def test_ops_performance_is_for_staff_across_organizations(filled, client):
    client.force_login(filled.alice)
    assert client.get("/ops/performance/").status_code == 404
    client.force_login(filled.staff)
    with time_machine.travel(NOW + MIN, tick=False):
        page = client.get("/ops/performance/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "rosewood-florals" in html and "/api/checkout" in html and "Database statements" in html
