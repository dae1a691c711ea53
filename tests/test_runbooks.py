"""Runbooks: sanitized markdown, versions, matching by service and alertname labels, links in notifications
and on the incident page."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from alerts.models import AlertHistory
from incidents.models import Runbook, RunbookVersion
from incidents.runbooks import runbook_render, runbook_save
from incidents.selectors import runbook_for_incident, runbooks_matching
from incidents.services import incident_acknowledge, incident_open_from_alert
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context

MARKDOWN = """# Payments latency

1. Check the [dashboard](https://grafana.example.com/d/payments).
2. Fail over:

```sh
make failover
```

<script>alert('x')</script>
<a href="javascript:alert(1)" onclick="steal()">click</a>
<img src="x" onerror="steal()">
"""


def test_markdown_is_rendered_and_sanitized():
    html = runbook_render(MARKDOWN)
    assert "<h1>Payments latency</h1>" in html
    assert '<a href="https://grafana.example.com/d/payments" rel="noopener noreferrer">dashboard</a>' in html
    assert "<code" in html and "make failover" in html
    for bad in ("<script", "javascript:", "onclick", "onerror"):
        assert bad not in html


def test_saving_keeps_every_version_and_unchanged_saves_write_none(world):
    with staff_context():
        rb = runbook_save(title="Payments", content="v1", by=world.staff, now=WEDNESDAY, service="payments")
        rb = runbook_save(
            runbook=rb, title="Payments", content="v2 **bold**", by=world.staff, now=WEDNESDAY, service="payments"
        )
        rb = runbook_save(
            runbook=rb, title="Payments", content="v2 **bold**", by=world.staff, now=WEDNESDAY, service="payments"
        )
        versions = list(RunbookVersion.objects.filter(runbook=rb).order_by("version").values_list("version", "content"))
    assert rb.version == 2 and rb.content_html == "<p>v2 <strong>bold</strong></p>"
    assert versions == [(1, "v1"), (2, "v2 **bold**")]


def test_saving_validates_title_and_content(world):
    with staff_context(), pytest.raises(ValidationError) as err:
        runbook_save(title="", content=" ", by=world.staff, now=WEDNESDAY)
    assert set(err.value.message_dict) == {"title", "content"}


def test_matching_prefers_exact_then_alertname_then_service_and_own_organization(world):
    with staff_context():
        mk = dict(content="x", by=world.staff, now=WEDNESDAY)
        service_only = runbook_save(title="svc", service="payments", **mk)
        alert_only = runbook_save(title="alert", alertname="HighLatency", **mk)
        exact = runbook_save(title="exact", service="payments", alertname="HighLatency", **mk)
        own = runbook_save(
            title="own exact", service="payments", alertname="HighLatency", organization=world.org_a, **mk
        )
        runbook_save(title="other org", service="payments", alertname="HighLatency", organization=world.org_b, **mk)
        runbook_save(title="other service", service="gallery", **mk)
        labels = {"service": "payments", "alertname": "HighLatency"}
        assert runbooks_matching(labels=labels, organization_id=world.org_a.id) == [
            own,
            exact,
            alert_only,
            service_only,
        ]
        assert runbooks_matching(labels={"service": "payments"}, organization_id=None) == [service_only]
        assert runbooks_matching(labels={}, organization_id=world.org_a.id) == []


def test_incident_links_its_runbook_in_notifications_and_on_its_page(world):
    with service_context():
        rb = runbook_save(title="Payments latency", content=MARKDOWN, by=None, now=WEDNESDAY, service="payments")
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="f",
            title="slow",
            severity="critical",
            starts_at=WEDNESDAY,
            labels={"service": "payments", "alertname": "X"},
        )
        incident = incident_open_from_alert(alert=alert, now=WEDNESDAY)
        assert runbook_for_incident(incident) == rb
        incident_acknowledge(incident=incident, by=None, now=WEDNESDAY)
        payload = NotificationDelivery.objects.get(event="incident.acknowledged").payload
    assert payload["runbook_url"].endswith(f"/ops/runbooks/{rb.pk}/")
    client = Client()
    client.force_login(world.staff)
    page = client.get(f"/ops/incidents/{incident.pk}/")
    assert page.status_code == 200
    assert f"/ops/runbooks/{rb.pk}/" in page.content.decode() and "<h1>Payments latency</h1>" in page.content.decode()
    runbook_page = client.get(f"/ops/runbooks/{rb.pk}/")
    assert runbook_page.status_code == 200 and b"<script>" not in runbook_page.content
    assert b"make failover" in runbook_page.content


def test_runbook_page_is_staff_only_and_organization_runbooks_are_tenant_rows(world):
    with staff_context():
        own = runbook_save(title="a", content="x", by=world.staff, now=WEDNESDAY, organization=world.org_a, service="s")
        platform = runbook_save(title="p", content="x", by=world.staff, now=WEDNESDAY, service="s")
    client = Client()
    client.force_login(world.alice)
    assert client.get(f"/ops/runbooks/{own.pk}/").status_code == 404
    anonymous = Client().get(f"/ops/runbooks/{own.pk}/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    with vendor_context(world.org_a.id):
        assert list(Runbook.objects.all()) == [own]
    with vendor_context(world.org_b.id):
        assert Runbook.objects.count() == 0 and RunbookVersion.objects.count() == 0
    with staff_context():
        assert Runbook.objects.count() == 2 and platform.version == 1


def test_admin_saves_runbooks_through_the_service(world):
    client = Client()
    client.force_login(world.staff)
    with staff_context():
        from django.contrib.auth.models import Permission

        world.staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="incidents"))
    response = client.post(
        "/admin/incidents/runbook/add/",
        {
            "title": "DB failover",
            "content": "# Steps\n<script>x</script>",
            "service": "db",
            "alertname": "",
            "organization": "",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with staff_context():
        rb = Runbook.objects.get()
        assert (rb.version, rb.content_html.strip(), rb.updated_by_id) == (1, "<h1>Steps</h1>", world.staff.pk)
        assert rb.versions.count() == 1


def test_notifications_link_the_alerts_runbook_annotation_or_the_matching_runbook(world):
    """The outbox payload carries ``runbook_url``: the annotation first, else the matching runbook's page."""
    import datetime as _dt

    from alerts.notify import alert_payload
    from alerts.services import alert_fire
    from incidents.models import Runbook
    from wedsync_ops.tenancy.context import service_context as _service

    now = _dt.datetime(2026, 6, 10, 12, 0, tzinfo=_dt.UTC)
    with _service():
        runbook = Runbook.objects.create(title="Payments slow", service="payments", content="# Do this")
        annotated, _ = alert_fire(
            organization_id=world.org_a.id,
            fingerprint="rb00000000000001",
            source="alertmanager",
            title="a",
            labels={"alertname": "X", "service": "payments"},
            annotations={"runbook_url": "https://rb.example/x"},
            severity="warning",
            priority="low",
            starts_at=now,
            now=now,
        )
        plain, _ = alert_fire(
            organization_id=world.org_a.id,
            fingerprint="rb00000000000002",
            source="alertmanager",
            title="b",
            labels={"alertname": "Y", "service": "payments"},
            annotations={},
            severity="warning",
            priority="low",
            starts_at=now,
            now=now,
        )
        assert alert_payload(event="alert.firing", alert=annotated)["runbook_url"] == "https://rb.example/x"
        assert alert_payload(event="alert.firing", alert=plain)["runbook_url"].endswith(f"/ops/runbooks/{runbook.pk}/")
