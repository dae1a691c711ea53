"""Incident reports: MTTA, MTTR, counts by priority and wedding impact per week and organization,
Saturdays (local) beside other days; the staff page with SVG charts and the API endpoint."""

import datetime as dt

import pytest
from django.test import Client
from rest_framework.test import APIClient

from incidents.reports import incident_report
from incidents.services import incident_acknowledge, incident_create, incident_merge, incident_resolve
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context

MIN = dt.timedelta(minutes=1)
WED = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
SAT = dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC)
NEXT_MON = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
SYDNEY_SAT = dt.datetime(2026, 6, 12, 22, 30, tzinfo=dt.UTC)  # Saturday 08:30 in Sydney, Friday in London


def _incident(org, at, priority, *, ack=None, res=None, impact="none"):
    incident = incident_create(
        organization=org, title=f"{priority} at {at}", by=None, now=at, priority=priority, wedding_impact=impact
    )
    if ack is not None:
        incident_acknowledge(incident=incident, by=None, now=at + ack * MIN)
    if res is not None:
        incident_resolve(incident=incident, by=None, now=at + res * MIN)
    return incident


@pytest.fixture
def history(world):
    with service_context():
        keep = _incident(world.org_a, WED, "p1", ack=2, res=20)
        _incident(world.org_a, SAT, "p0", ack=4, res=60, impact="wedding_day_critical")
        _incident(world.org_a, NEXT_MON, "p2")
        _incident(world.org_b, SYDNEY_SAT, "p0", ack=10, res=30)
        _incident(None, WED, "p3", res=5)
        dup = _incident(world.org_a, WED, "p1", ack=1, res=2)
        incident_merge(duplicate=dup, into=keep, by=None, now=WED + 3 * MIN)
    return world


def test_report_counts_and_means_per_week_with_local_saturdays(history):
    with staff_context():
        report = incident_report(since=dt.date(2026, 6, 8), until=dt.date(2026, 6, 21))
    totals = report["totals"]
    assert (totals["count"], totals["mtta_s"], totals["mttr_s"]) == (5, 320.0, 1725.0)
    assert totals["by_priority"] == {"p0": 2, "p1": 1, "p2": 1, "p3": 1}
    assert totals["by_impact"]["wedding_day_critical"] == 1 and totals["by_impact"]["none"] == 4
    week1, week2 = report["weeks"]
    assert (week1["week"], week1["count"], week2["week"], week2["count"]) == ("2026-06-08", 4, "2026-06-15", 1)
    # London's Saturday and Sydney's Saturday (a Friday in UTC and London) both count as Saturdays.
    assert (week1["saturday"]["count"], week1["saturday"]["mtta_s"], week1["saturday"]["mttr_s"]) == (2, 420.0, 2700.0)
    assert (week1["other_days"]["count"], week1["other_days"]["mtta_s"], week1["other_days"]["mttr_s"]) == (
        2,
        120.0,
        750.0,
    )
    assert (week2["mtta_s"], week2["mttr_s"]) == (None, None)


def test_report_per_organization_and_for_one_organization(history):
    w = history
    with staff_context():
        report = incident_report(since=dt.date(2026, 6, 8), until=dt.date(2026, 6, 21))
        only_b = incident_report(since=dt.date(2026, 6, 8), until=dt.date(2026, 6, 21), organization_id=w.org_b.id)
    by_org = {o["organization"]: (o["count"], o["saturday"]["count"]) for o in report["organizations"]}
    assert by_org == {None: (1, 0), "bloom-and-vine": (1, 1), "rosewood-florals": (3, 1)}
    assert only_b["totals"]["count"] == 1 and only_b["totals"]["mtta_s"] == 600.0


def test_report_range_is_inclusive_and_validated(history):
    with staff_context():
        assert incident_report(since=dt.date(2026, 6, 13), until=dt.date(2026, 6, 13))["totals"]["count"] == 1
        with pytest.raises(ValueError, match="before"):
            incident_report(since=dt.date(2026, 6, 13), until=dt.date(2026, 6, 12))


def test_vendor_context_reports_only_its_organization(history):
    with vendor_context(history.org_b.id):
        report = incident_report(since=dt.date(2026, 6, 8), until=dt.date(2026, 6, 21))
    assert [o["organization"] for o in report["organizations"]] == ["bloom-and-vine"]


def _api(user):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


URL = "/api/v1/incidents/reports/?since=2026-06-08&until=2026-06-21"


def test_api_staff_sees_all_vendors_their_own_outsiders_nothing(history):
    w = history
    staff = _api(w.staff).get(URL)
    assert staff.status_code == 200 and staff.json()["totals"]["count"] == 5
    assert _api(w.staff).get(URL + "&organization=bloom-and-vine").json()["totals"]["count"] == 1
    alice = _api(w.alice).get(URL + "&organization=bloom-and-vine")  # the filter cannot widen a vendor's view
    assert alice.json()["totals"]["count"] == 3
    assert {o["organization"] for o in alice.json()["organizations"]} == {"rosewood-florals"}
    assert _api(w.bob).get(URL).json()["totals"]["count"] == 1
    assert _api(w.charlie).get(URL).json()["totals"]["count"] == 0
    assert _api(None).get(URL).status_code == 401


@pytest.mark.parametrize(
    "query, field",
    [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("since=2026-06-10&until=2026-06-01", "until"),
        ("since=2024-01-01&until=2026-01-01", "since"),
        ("organization=nope", "organization"),
    ],
)
def test_api_bad_parameters_answer_400_naming_the_field(history, query, field):
    response = _api(history.staff).get(f"/api/v1/incidents/reports/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_staff_page_shows_labelled_svg_charts_and_tables(history):
    client = Client()
    client.force_login(history.staff)
    response = client.get("/ops/incidents/reports/?since=2026-06-08&until=2026-06-21")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") == 3
    assert "Incidents per week by priority" in html and "MTTA per week: Saturdays beside other days" in html
    assert "06-08 · p0: 2" in html  # the bar's tooltip: week, series, value
    assert "#0072B2" in html  # Okabe-Ito palette
    assert "bloom-and-vine" in html
    assert client.get("/ops/incidents/reports/?since=bad").status_code == 400


def test_reports_page_is_staff_only(history):
    client = Client()
    client.force_login(history.alice)
    assert client.get("/ops/incidents/reports/").status_code == 404
    assert Client().get("/ops/incidents/reports/").status_code == 302
