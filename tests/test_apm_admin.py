"""Admin of raw metric points and aggregations: staff only, read-only, no COUNT(*) on the huge table."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apm.services import MetricRow, metrics_aggregate, metrics_copy
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context

METRICS_URL = "/admin/apm/apmmetric/"
AGGREGATIONS_URL = "/admin/apm/apmmetricaggregation/"


@pytest.fixture
def metrics(world):
    """150 points of org A (service checkout-api) and 3 of org B (service gallery), aggregated by minute."""
    rows = [
        MetricRow(world.org_a.id, "checkout-api", "http.duration", float(i), WEDNESDAY - dt.timedelta(seconds=i))
        for i in range(150)
    ]
    rows += [MetricRow(world.org_b.id, "gallery", "http.duration", 1000.0 + i, WEDNESDAY) for i in range(3)]
    with service_context():
        metrics_copy(rows=rows)
        metrics_aggregate(bucket_seconds=60)
        metrics_aggregate(bucket_seconds=3600)
        world.staff.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_apmmetric", "view_apmmetricaggregation"])
        )
    return world


def test_staff_see_every_organization_newest_first_without_counting(client, metrics):
    client.force_login(metrics.staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(METRICS_URL)

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert len(shown) == 100
    assert [m.value for m in shown[:4]] == [1002.0, 1001.0, 1000.0, 0.0]  # recorded_at desc, then id desc
    assert [m.recorded_at for m in shown] == sorted((m.recorded_at for m in shown), reverse=True)
    assert {m.organization_id for m in shown} == {metrics.org_a.id, metrics.org_b.id}
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # A next page is offered although nothing was counted.
    assert b"?p=2" in response.content


def test_the_second_page_holds_the_rest(client, metrics):
    client.force_login(metrics.staff)
    response = client.get(METRICS_URL, {"p": 2})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 53
    # Past the end: the admin's usual "bad page" redirect, not an error.
    assert client.get(METRICS_URL, {"p": 9}).status_code == 302


def test_filter_by_service_and_search_by_metric_name(client, metrics):
    client.force_login(metrics.staff)
    with time_machine.travel(WEDNESDAY + dt.timedelta(days=1), tick=False):
        response = client.get(METRICS_URL, {"service": "gallery"})
    assert {m.service for m in response.context["cl"].result_list} == {"gallery"}
    # Services of the last week's hourly aggregations are offered as choices.
    assert b"?service=checkout-api" in response.content
    # A service without recent aggregations still filters.
    response = client.get(METRICS_URL, {"service": "gallery"})
    assert {m.service for m in response.context["cl"].result_list} == {"gallery"}
    response = client.get(METRICS_URL, {"q": "http.dur"})
    assert len(response.context["cl"].result_list) == 100


def test_metric_admin_is_read_only(client, metrics):
    client.force_login(metrics.staff)
    assert client.get(METRICS_URL + "add/").status_code == 403
    response = client.get(METRICS_URL)
    assert b"/change/" not in response.content  # no per-row links
    assert client.get(AGGREGATIONS_URL + "add/").status_code == 403


def test_staff_see_aggregations_filtered_by_width(client, metrics):
    client.force_login(metrics.staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(AGGREGATIONS_URL, {"bucket_seconds": 3600})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert {(a.bucket_seconds, a.organization_id) for a in rows} == {(3600, metrics.org_a.id), (3600, metrics.org_b.id)}
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_vendor_users_get_nothing_from_the_metric_admin(client, metrics, who):
    client.force_login(getattr(metrics, who))
    for url in (METRICS_URL, AGGREGATIONS_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
