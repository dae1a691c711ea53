"""Post-incident analysis: the template, editing, validation, publishing, and who sees it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from alerts.models import AlertHistory
from incidents.analysis import analysis_publish, analysis_start, analysis_update
from incidents.models import PostIncidentAnalysis
from incidents.services import incident_acknowledge, incident_open_from_alert, incident_resolve
from tests.conftest import SATURDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

MIN = dt.timedelta(minutes=1)
ITEM = {"description": "Alert on certificate expiry", "owner": "devops", "due_date": "2026-07-01"}


@pytest.fixture
def resolved(world):
    """A wedding-day p0 for org A, detected Saturday 12:00 UTC, acknowledged after 3 min, resolved after 47 min."""
    with service_context():
        Wedding.objects.create(organization=world.org_a, wedding_date=dt.date(2026, 6, 13), couple_name="Ana & Ben")
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="f",
            title="gallery down",
            severity="critical",
            starts_at=SATURDAY,
        )
        incident = incident_open_from_alert(alert=alert, now=SATURDAY)
    with staff_context():
        incident_acknowledge(incident=incident, by=world.staff, now=SATURDAY + 3 * MIN)
        incident_resolve(incident=incident, by=world.staff, now=SATURDAY + 47 * MIN)
    world.incident = incident
    return world


def test_starting_fills_the_template_from_the_incident_and_its_timeline(resolved):
    w = resolved
    with staff_context():
        analysis = analysis_start(incident=w.incident, by=w.staff, now=SATURDAY + 60 * MIN)
        again = analysis_start(incident=w.incident, by=w.staff, now=SATURDAY + 61 * MIN)
    assert again.pk == analysis.pk
    assert (analysis.status, analysis.impact_minutes, analysis.weddings_affected, analysis.organizations_affected) == (
        "draft",
        47,
        1,
        1,
    )
    assert [t["kind"] for t in analysis.timeline] == ["created", "status_change", "status_change"]
    assert analysis.timeline[1]["author"] == "staff"
    assert analysis.timeline[1]["at"] == (SATURDAY + 3 * MIN).isoformat()


def test_publishing_requires_summary_root_cause_and_action_items(resolved):
    w = resolved
    with staff_context():
        analysis = analysis_start(incident=w.incident, by=w.staff, now=SATURDAY + 60 * MIN)
        with pytest.raises(ValidationError) as err:
            analysis_publish(analysis=analysis, by=w.staff, now=SATURDAY + 61 * MIN)
        assert set(err.value.message_dict) == {"summary", "root_cause", "action_items"}
        assert PostIncidentAnalysis.objects.get(pk=analysis.pk).status == "draft"


@pytest.mark.parametrize(
    "fields, field, reason",
    [
        ({"action_items": [{"owner": "x", "due_date": "2026-07-01"}]}, "action_items", "description is required"),
        ({"action_items": [{"description": "x", "due_date": "2026-07-01"}]}, "action_items", "owner is required"),
        ({"action_items": [{"description": "x", "owner": "y", "due_date": "soon"}]}, "action_items", "YYYY-MM-DD"),
        ({"action_items": "do it"}, "action_items", "must be a list"),
        ({"impact_minutes": -5}, "impact_minutes", "must not be negative"),
        ({"weddings_affected": "many"}, "weddings_affected", "whole number"),
        ({"status": "published"}, "status", "not an editable field"),
    ],
)
def test_bad_edits_are_refused_naming_the_field(resolved, fields, field, reason):
    w = resolved
    with staff_context():
        analysis = analysis_start(incident=w.incident, by=w.staff, now=SATURDAY)
        with pytest.raises(ValidationError) as err:
            analysis_update(analysis=analysis, by=w.staff, now=SATURDAY, **fields)
    assert reason in " ".join(err.value.message_dict[field])


def test_published_analysis_has_a_fresh_timeline_and_cannot_be_edited(resolved):
    w = resolved
    with staff_context():
        analysis = analysis_start(incident=w.incident, by=w.staff, now=SATURDAY + 60 * MIN)
        analysis_update(
            analysis=analysis,
            by=w.staff,
            now=SATURDAY + 61 * MIN,
            summary="The gallery was down.",
            root_cause="Disk full",
            contributing_factors="No disk alert",
            action_items=[ITEM],
        )
        published = analysis_publish(analysis=analysis, by=w.staff, now=SATURDAY + 62 * MIN)
        with pytest.raises(ValidationError, match="cannot be edited"):
            analysis_update(analysis=published, by=w.staff, now=SATURDAY, summary="x")
        with pytest.raises(ValidationError, match="already published"):
            analysis_publish(analysis=published, by=w.staff, now=SATURDAY)
    assert (published.status, published.published_at) == ("published", SATURDAY + 62 * MIN)
    assert published.action_items == [{**ITEM, "done": False}]
    assert [t["kind"] for t in published.timeline][-2:] == ["analysis", "analysis"]


def test_analysis_is_a_tenant_row(resolved):
    w = resolved
    with staff_context():
        analysis_start(incident=w.incident, by=w.staff, now=SATURDAY)
    with vendor_context(w.org_b.id):
        assert PostIncidentAnalysis.objects.count() == 0
    with vendor_context(w.org_a.id):
        assert PostIncidentAnalysis.objects.count() == 1


def test_staff_page_starts_saves_and_publishes_then_closes(resolved):
    w = resolved
    client = Client()
    client.force_login(w.staff)
    url = f"/ops/incidents/{w.incident.pk}/"
    assert client.post(url, {"action": "close"}).status_code == 400  # p0 without a published analysis
    assert client.post(url, {"action": "analysis_start"}).status_code == 302
    bad = client.post(url, {"action": "analysis_save", "summary": "s", "action_items": "[{"})
    assert bad.status_code == 400 and "action_items" in bad.content.decode()
    saved = client.post(
        url,
        {
            "action": "analysis_save",
            "summary": "Gallery uploads failed for 47 minutes.",
            "root_cause": "Disk full",
            "contributing_factors": "",
            "impact_description": "",
            "impact_minutes": "47",
            "weddings_affected": "1",
            "organizations_affected": "1",
            "action_items": '[{"description": "Disk alert", "owner": "devops", "due_date": "2026-07-01"}]',
        },
    )
    assert saved.status_code == 302
    assert client.post(url, {"action": "analysis_publish"}).status_code == 302
    assert client.post(url, {"action": "close"}).status_code == 302
    page = client.get(url).content.decode()
    assert "Disk full" in page and "Disk alert" in page
    with staff_context():
        assert PostIncidentAnalysis.objects.get().incident.status == "closed"
