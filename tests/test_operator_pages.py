"""The operator's pages of issue 14: runbooks (index, search, versioned edit, their incidents), opening an incident
by hand, the post-incident analysis as a form that keeps work, styled error pages, and one time format."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts.services import alert_fire
from incidents.models import Incident, PostIncidentAnalysis, Runbook
from incidents.runbooks import runbook_save
from wedsync_ops.pages.templatetags.portal import format_when, pct, weekday_names, words
from wedsync_ops.tenancy.context import service_context

SAT = dt.datetime(2026, 6, 13, 13, 5, tzinfo=dt.UTC)


def test_times_read_like_sat_13_jun_14_05_bst_with_a_date_only_when_not_today():
    assert format_when(SAT, now=SAT - dt.timedelta(days=2)) == "Sat 13 Jun 14:05 BST (13:05 UTC)"
    assert format_when(SAT, now=SAT) == "14:05 BST (13:05 UTC)"
    assert (
        format_when(SAT, "Australia/Sydney", now=SAT) == "Sat 13 Jun 23:05 AEST (13:05 UTC)"
        or format_when(SAT, "Australia/Sydney", now=SAT) == "23:05 AEST (13:05 UTC)"
    )
    assert format_when(SAT, "UTC", now=SAT - dt.timedelta(days=1)) == "Sat 13 Jun 13:05 UTC"
    assert format_when(SAT.replace(microsecond=123456), now=SAT) == "14:05 BST (13:05 UTC)"  # never microseconds
    assert format_when(SAT, now=SAT + dt.timedelta(days=400)) == "Sat 13 Jun 2026 14:05 BST (13:05 UTC)"
    assert format_when(None) == "–"
    assert pct(0.973) == "97.3%" and pct(None) == "–"
    assert words("wedding_day_critical") == "wedding day critical"
    assert weekday_names([6, 1]) == "Mon, Sat" and weekday_names(range(1, 8)) == "every day"


@pytest.fixture
def runbooks(world):
    now = timezone.now()
    with service_context():
        latency = runbook_save(
            title="Checkout latency",
            content="## Slow\n\n1. Check the payment provider.",
            by=None,
            now=now,
            alertname="HighLatency",
        )
        runbook_save(title="Disk full", content="Free space on the **replica**.", by=None, now=now, service="db")
        alert, _ = alert_fire(
            organization_id=world.org_a.id,
            fingerprint="c0ffee0000000001",
            source="alertmanager",
            title="Checkout slow",
            labels={"alertname": "HighLatency"},
            annotations={},
            severity="critical",
            priority="high",
            starts_at=now,
            now=now,
        )
        if alert.incident_id is None:
            incident = Incident.objects.create(organization=world.org_a, title="Checkout slow", priority="p1")
            alert.incident = incident
            alert.save(update_fields=["incident"])
        alert.refresh_from_db()
    return {"latency": latency, "incident_id": alert.incident_id}


def test_runbook_index_searches_titles_text_and_labels(client, world, runbooks):
    client.force_login(world.staff)
    html = client.get("/ops/runbooks/").content.decode()
    assert "Checkout latency" in html and "Disk full" in html and 'alertname="HighLatency"' in html
    html = client.get("/ops/runbooks/", {"q": "replica"}).content.decode()
    assert "Disk full" in html and "Checkout latency" not in html
    assert "No runbook mentions" in client.get("/ops/runbooks/", {"q": "zebra"}).content.decode()
    for user in (world.alice, world.bob):
        client.force_login(user)
        assert client.get("/ops/runbooks/").status_code == 404
        assert client.get(f"/ops/runbooks/{runbooks['latency'].pk}/").status_code == 404
        assert client.get(f"/ops/runbooks/{runbooks['latency'].pk}/edit/").status_code == 404


def test_runbook_page_links_its_incidents_and_edits_make_versions(client, world, runbooks):
    rb = runbooks["latency"]
    client.force_login(world.staff)
    html = client.get(f"/ops/runbooks/{rb.pk}/").content.decode()
    assert f'href="/ops/incidents/{runbooks["incident_id"]}/"' in html
    edit = client.get(f"/ops/runbooks/{rb.pk}/edit/").content.decode()
    assert "Check the payment provider." in edit and "saving makes version 2" in edit
    response = client.post(
        f"/ops/runbooks/{rb.pk}/edit/",
        {
            "title": "Checkout latency",
            "alertname": "HighLatency",
            "service": "",
            "content": "## Slow\n\n1. Call Stripe.",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Runbook saved as version 2." in page and "Call Stripe." in page and "restore this text" in page
    old = client.get(f"/ops/runbooks/{rb.pk}/edit/", {"version": "1"}).content.decode()
    assert "Check the payment provider." in old
    bad = client.post(f"/ops/runbooks/{rb.pk}/edit/", {"title": "Still here", "content": "   "})
    assert bad.status_code == 400 and "content: This field is required." in bad.content.decode()
    assert 'value="Still here"' in bad.content.decode()
    with service_context():
        assert Runbook.objects.get(pk=rb.pk).version == 2
    created = client.post("/ops/runbooks/new/", {"title": "New one", "content": "text", "service": "", "alertname": ""})
    assert created.status_code == 302


def test_staff_open_an_incident_by_hand_on_a_portal_form(client, world):
    client.force_login(world.staff)
    form = client.get("/ops/incidents/new/").content.decode()
    assert "Rosewood Florals" in form and 'name="priority"' in form
    response = client.post(
        "/ops/incidents/new/",
        {
            "title": "Vendor phoned: gallery down",
            "organization": "rosewood-florals",
            "priority": "p1",
            "severity": "critical",
            "wedding_impact": "high",
            "description": "Call at 14:02",
        },
    )
    assert response.status_code == 302
    with service_context():
        incident = Incident.objects.get(title="Vendor phoned: gallery down")
    assert incident.organization_id == world.org_a.id and incident.source == "manual"
    assert "Incident p1 opened" in client.get(response["Location"]).content.decode()
    bad = client.post(
        "/ops/incidents/new/",
        {
            "title": "Typed with care",
            "organization": "nobody",
            "priority": "p1",
            "severity": "critical",
            "wedding_impact": "none",
        },
    )
    assert bad.status_code == 400 and "no organization" in bad.content.decode()
    assert 'value="Typed with care"' in bad.content.decode()
    client.force_login(world.alice)
    assert client.get("/ops/incidents/new/").status_code == 404


def test_analysis_form_has_action_item_rows_no_placeholder_values_and_keeps_input_on_error(client, world):
    with service_context():
        incident = Incident.objects.create(
            organization=world.org_a,
            title="Uploads failed",
            priority="p1",
            status="resolved",
            resolved_at=timezone.now(),
        )
    url = f"/ops/incidents/{incident.pk}/"
    client.force_login(world.staff)
    assert client.post(url, {"action": "analysis_start"}).status_code == 302
    with service_context():
        assert PostIncidentAnalysis.objects.get().summary == ""  # the prompt is a placeholder, not a value
    page = client.get(url).content.decode()
    assert 'placeholder="What happened, in two or three sentences."></textarea>' in page
    assert 'name="item_description"' in page and 'type="date"' in page
    body = {
        "action": "analysis_save",
        "summary": "Uploads failed for 40 minutes.",
        "root_cause": "Disk full",
        "impact_minutes": "40",
        "weddings_affected": "1",
        "organizations_affected": "1",
        "item_description": ["Alert on disk", "Half-typed item"],
        "item_owner": ["devops", ""],
        "item_due_date": ["2026-07-01", ""],
        "item_done": ["0"],
    }
    bad = client.post(url, body)
    html = bad.content.decode()
    assert bad.status_code == 400 and "item 2: owner is required" in html
    assert "Uploads failed for 40 minutes." in html and 'value="Half-typed item"' in html
    assert 'value="Alert on disk"' in html and 'name="item_done" value="0" checked' in html
    body.update(
        item_description=["Alert on disk", "Clean old uploads"],
        item_owner=["devops", "platform"],
        item_due_date=["2026-07-01", "2026-07-08"],
    )
    assert client.post(url, body).status_code == 302
    with service_context():
        items = PostIncidentAnalysis.objects.get().action_items
    assert items == [
        {"description": "Alert on disk", "owner": "devops", "due_date": "2026-07-01", "done": True},
        {"description": "Clean old uploads", "owner": "platform", "due_date": "2026-07-08", "done": False},
    ]
    assert "Analysis saved." in client.get(url).content.decode()
    body.update(item_remove=["0"])
    assert client.post(url, body).status_code == 302
    with service_context():
        assert [i["description"] for i in PostIncidentAnalysis.objects.get().action_items] == ["Clean old uploads"]


def test_destructive_actions_ask_first_and_look_dangerous(client, world):
    with service_context():
        incident = Incident.objects.create(organization=world.org_a, title="x", priority="p2", status="acknowledged")
    client.force_login(world.staff)
    html = client.get(f"/ops/incidents/{incident.pk}/").content.decode()
    assert 'data-confirm="Resolve this incident?' in html and 'button--danger">Resolve' in html
    client.force_login(world.alice)
    channels = client.get("/org/rosewood-florals/alerts/channels/").content.decode()
    assert "js/confirm.js" in channels


def test_error_pages_are_styled_and_offer_a_way_on(client, world):
    client.force_login(world.alice)
    response = client.get("/org/bloom-and-vine/")
    html = response.content.decode()
    assert response.status_code == 404 and "This page does not exist" in html and "css/portal.css" in html
    assert 'href="/"' in html and "Saturday dashboard" not in html  # no staff links for a vendor
    client.force_login(world.staff)
    html = client.get("/ops/no-such-page/").content.decode()
    assert "Saturday dashboard" in html


def test_vendor_home_links_to_its_alerts_apm_and_dashboards(client, world):
    client.force_login(world.alice)
    html = client.get("/org/rosewood-florals/").content.decode()
    assert 'href="/org/rosewood-florals/apm/"' in html and 'href="/org/rosewood-florals/apm/#apm-dashboards"' in html
    assert 'href="/org/rosewood-florals/alerts/"' in html


def test_saving_a_rule_shows_its_confirmation_on_the_page_it_returns_to_and_help_uses_words(client, world):
    client.force_login(world.alice)
    form = client.get("/org/rosewood-florals/alerts/rules/").content.decode()
    assert "Used instead on wedding days and Saturdays" in form and "half of for_seconds" not in form
    response = client.post(
        "/org/rosewood-florals/alerts/rules/",
        {
            "name": "Slow checkout",
            "alert_type": "threshold",
            "metric_name": "http.request.duration_ms",
            "aggregation": "p95",
            "comparison": "above",
            "threshold": "800",
            "window_minutes": "5",
            "for_seconds": "60",
            "severity": "warning",
            "priority": "medium",
            "enabled": "on",
        },
        follow=True,
    )
    assert response.status_code == 200 and "Saved rule &#x27;Slow checkout&#x27;." in response.content.decode()
