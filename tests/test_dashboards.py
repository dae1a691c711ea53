"""Organization APM pages and saved dashboards: server-side SVG charts, editing rights, tenant isolation."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from apm.models import ApmDashboard, ServiceHealthCheck
from apm.services import MetricRow, ProbeResult, errors_ingest, health_check_record, metrics_aggregate, metrics_copy
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import UserProfile

WIDGETS = [
    {
        "title": "Checkout latency",
        "service": "checkout-api",
        "metric": "http.duration",
        "aggregation": "p95",
        "window": "1h",
        "chart": "line",
    },
    {"service": "checkout-api", "metric": "http.duration", "aggregation": "count", "window": "24h", "chart": "bar"},
]


@pytest.fixture
def data(world):
    """Org A: metrics of the last minutes (aggregated), an error, a health check; org B: its own metric."""
    now = timezone.now()
    with service_context():
        metrics_copy(
            rows=[
                MetricRow(world.org_a.id, "checkout-api", "http.duration", float(v), now - dt.timedelta(minutes=m))
                for m in (2, 3, 4)
                for v in (100, 400)
            ]
        )
        metrics_copy(rows=[MetricRow(world.org_b.id, "gallery", "secret.metric", 1.0, now - dt.timedelta(minutes=2))])
        for width in (60, 3600):
            metrics_aggregate(bucket_seconds=width)
        errors_ingest(
            organization_id=world.org_a.id,
            now=now,
            payload={"service": "payments", "type": "CardError", "message": "card 42 declined"},
        )
        check = ServiceHealthCheck.objects.create(
            organization=world.org_a, name="Stripe API", category="payments", url="https://example.com/stripe"
        )
        health_check_record(check=check, result=ProbeResult(True, 200, 87.0, ""), now=now)
        world.member = world.bob.__class__.objects.create_user("dora", "d@example.com", "pw-dora-123")
        UserProfile.objects.create(user=world.member, organization=world.org_a, role=UserProfile.Role.MEMBER)
    return world


def _new(client, slug, name, widgets):
    return client.post(f"/org/{slug}/dashboards/new/", {"name": name, "widgets": json.dumps(widgets)})


def test_an_org_admin_sees_metrics_errors_and_health_checks_on_the_apm_page(client, data):
    client.force_login(data.alice)
    html = client.get("/org/rosewood-florals/apm/").content.decode()
    assert "checkout-api" in html and "http.duration" in html
    assert "CardError" in html and "card &lt;num&gt; declined" in html
    assert "Stripe API" in html and "100.00 %" in html
    assert "secret.metric" not in html


def test_an_org_admin_creates_a_dashboard_drawn_as_svg_charts(client, data):
    client.force_login(data.alice)
    response = _new(client, "rosewood-florals", "Checkout", WIDGETS)
    assert response.status_code == 302
    with vendor_context(data.org_a.id):
        dashboard = ApmDashboard.objects.get()
    assert response["Location"] == f"/org/rosewood-florals/dashboards/{dashboard.pk}/"
    assert dashboard.widgets[1]["title"] == "" and dashboard.updated_by == data.alice
    html = client.get(response["Location"]).content.decode()
    assert html.count("<svg") == 2 and 'aria-label="Checkout latency, last 1h' in html
    assert '<path d="M' in html and "<rect" in html  # a line and bars
    assert "#0072B2" in html  # the colour-blind-safe series colour
    assert ">385.00<" in html  # p95 of one minute of 100 and 400 ms (linear interpolation)
    counts = html.split('<th class="num">count</th>')[1].split("</table>")[0]
    assert sum(float(v) for v in re.findall(r'class="num">([0-9.]+)<', counts)) == 6  # six points


def test_bad_widgets_are_refused_with_every_reason_and_nothing_saved(client, data):
    client.force_login(data.alice)
    response = _new(
        client, "rosewood-florals", "", [{"service": "x", "aggregation": "median", "window": "2d", "colour": "red"}]
    )
    assert response.status_code == 400
    html = response.content.decode()
    for reason in (
        "name",
        "widgets[0].metric: is required",
        "widgets[0].aggregation",
        "widgets[0].window",
        "widgets[0].colour: unknown field",
    ):
        assert reason in html
    bad_json = client.post("/org/rosewood-florals/dashboards/new/", {"name": "x", "widgets": "[{"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.content.decode()
    with service_context():
        assert not ApmDashboard.objects.exists()


def test_staff_edit_any_organization_dashboard_and_members_only_view(client, data):
    client.force_login(data.alice)
    location = _new(client, "rosewood-florals", "Checkout", WIDGETS)["Location"]
    client.force_login(data.staff)
    edited = client.post(location + "edit/", {"name": "Checkout (ops)", "widgets": json.dumps(WIDGETS[:1])})
    assert edited.status_code == 302
    client.force_login(data.member)
    assert client.get(location).status_code == 200
    assert client.get(location + "edit/").status_code == 403
    assert _new(client, "rosewood-florals", "mine", []).status_code == 403
    with service_context():
        assert ApmDashboard.objects.get().name == "Checkout (ops)"


def test_outsiders_get_404_and_anonymous_visitors_the_login_page(client, data):
    client.force_login(data.alice)
    location = _new(client, "rosewood-florals", "Checkout", WIDGETS)["Location"]
    pk = location.rstrip("/").rsplit("/", 1)[1]
    client.force_login(data.bob)  # another organization
    for url in (
        "/org/rosewood-florals/apm/",
        location,
        location + "edit/",
        "/org/rosewood-florals/dashboards/new/",
        f"/org/bloom-and-vine/dashboards/{pk}/",
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(data.charlie)  # no organization
    assert client.get(location).status_code == 404
    client.logout()
    assert client.get(location).status_code == 302 and "/login" in client.get(location)["Location"]
