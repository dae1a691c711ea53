"""POST /api/v1/metrics/ with the Prometheus text exposition format (text/plain; version=0.0.4)."""

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection

from apm.prometheus_text import ParseError, parse_line, to_points
from apm.services import api_key_create
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

URL = "/api/v1/metrics/"
CT = "text/plain; version=0.0.4; charset=utf-8"
EXPOSITION = """# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{job="checkout",le="0.5",route="/pay"} 12
http_request_duration_seconds_bucket{job="checkout",le="+Inf",route="/pay"} 14
http_request_duration_seconds_sum{job="checkout",route="/pay"} 4.25
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.99",service="payments"} NaN
process_resident_memory_bytes{service="payments",path="a \\"quoted\\" \\\\ value"} 2.5e+07 1781092800000
"""


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return [
            tuple(json.loads(v) if isinstance(v, str) and v[:1] == "{" else v for v in row) for row in cur.fetchall()
        ]


@pytest.fixture
def keys(world):
    with time_machine.travel(WEDNESDAY, tick=False), service_context():
        _, world.key_a = api_key_create(organization=world.org_a, name="prom")
    return world


def _post(client, text, key, query=""):
    with time_machine.travel(WEDNESDAY, tick=False):
        return client.post(URL + query, data=text, content_type=CT, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_line_parses_into_name_labels_value_and_timestamp():
    assert parse_line('up{job="a",instance="h:9090",} 1 1700000000000') == (
        "up",
        {"job": "a", "instance": "h:9090"},
        1.0,
        1700000000000,
    )
    assert parse_line('x{l="a\\nb \\"c\\""} -Inf')[1:3] == ({"l": 'a\nb "c"'}, float("-inf"))
    for bad in ('x{l="a} 1', 'x{1="a"} 1', "x one", "x 1 2 3", '{l="a"} 1', 'x{l="a",l="b"} 1'):
        with pytest.raises(ParseError):
            parse_line(bad)


def test_an_exposition_is_stored_with_labels_as_tags_and_the_job_as_service(client, keys):
    response = _post(client, EXPOSITION, keys.key_a)
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 4, "skipped": 1}
    with service_context():
        rows = _rows(
            "SELECT organization_id, service, metric_name, value, unit, tags, recorded_at FROM apm_metrics ORDER BY id"
        )
    assert {r[0] for r in rows} == {keys.org_a.id}
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("checkout", "http_request_duration_seconds_bucket", 12.0, "count"),
        ("checkout", "http_request_duration_seconds_bucket", 14.0, "count"),
        ("checkout", "http_request_duration_seconds_sum", 4.25, "s"),
        ("payments", "process_resident_memory_bytes", 2.5e7, "bytes"),
    ]
    assert rows[1][5] == {"le": "+Inf", "route": "/pay"}
    assert rows[3][5] == {"path": 'a "quoted" \\ value'}
    assert rows[0][6] == WEDNESDAY
    assert rows[3][6] == dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)  # the sample's own timestamp (ms)


def test_the_service_query_parameter_wins_over_labels(client, keys):
    response = _post(client, 'up{job="node",service="x"} 1\n', keys.key_a, "?service=edge")
    assert response.status_code == 202
    with vendor_context(keys.org_a.id):
        assert _rows("SELECT service, tags FROM apm_metrics") == [("edge", {"job": "node"})]


def test_bad_lines_are_named_by_number_and_nothing_is_stored(client, keys):
    text = 'ok{job="a"} 1\nbroken{job="a" 1\nno_service 3\nold{job="a"} 1 1000\n'
    response = _post(client, text, keys.key_a)
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, None), (3, "service")]
    # Parsable lines are then validated like JSON points: the 1970 timestamp is out of retention.
    response = _post(client, 'ok{job="a"} 1\nold{job="a"} 1 1000\n', keys.key_a)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "field": "timestamp", "reason": "is older than the 90-day retention"}
    ]
    with service_context():
        assert _rows("SELECT count(*) FROM apm_metrics") == [(0,)]


def test_an_exposition_without_samples_is_400(client, keys):
    response = _post(client, "# HELP x nothing\n", keys.key_a)
    assert response.status_code == 400 and "no samples" in response.json()["detail"]


def test_without_a_key_the_exposition_is_refused(client, keys):
    assert client.post(URL, data="up 1\n", content_type=CT).status_code == 401


def test_units_follow_the_prometheus_naming_conventions():
    from apm.prometheus_text import unit_of

    assert [
        unit_of(n) for n in ("a_seconds_sum", "a_seconds_count", "b_bytes", "c_total", "cpu_seconds_total", "up")
    ] == ["s", "count", "bytes", "count", "s", ""]


def test_to_points_reports_the_line_of_each_point():
    text = '\n# c\na{job="j"} 1\n\nb{job="j"} +Inf\nc{job="j"} 2\n'
    points, lines, errors, skipped = to_points(text, service=None)
    assert [p["name"] for p in points] == ["a", "c"] and lines == [3, 6] and errors == [] and skipped == 1
