"""Incident pages: staff work an incident end to end on /ops/incidents/<id>/; vendors read their status page
/org/<slug>/incidents/; outsiders get 404; the admin's actions go through the services."""

import datetime as dt

import pytest
from django.test import Client

from alerts.models import AlertHistory
from incidents.models import EscalationContact, Incident, IncidentUpdate
from incidents.services import incident_create, incident_note_add, incident_open_from_alert
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context
from wedsync_ops.tenancy.models import Wedding


@pytest.fixture
def pages(world):
    """org A: a wedding-day incident from an alert (with an internal and a vendor-visible note); org B: one incident."""
    with service_context():
        world.wedding = Wedding.objects.create(
            organization=world.org_a,
            wedding_date=dt.date(2026, 6, 13),
            couple_name="Ana & Ben",
            venue_name="Kew Gardens",
            ceremony_time=dt.time(14, 0),
        )
        world.alert = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="f",
            title="gallery down",
            severity="critical",
            starts_at=SATURDAY,
            labels={"service": "gallery", "alertname": "GalleryDown"},
        )
        world.a = incident_open_from_alert(alert=world.alert, now=SATURDAY)
        incident_note_add(incident=world.a, by=world.staff, now=SATURDAY, message="internal: disk at 100%")
        incident_note_add(
            incident=world.a, by=world.staff, now=SATURDAY, message="We are restoring uploads", vendor_visible=True
        )
        world.b = incident_create(organization=world.org_b, title="emails delayed", by=None, now=WEDNESDAY)
        EscalationContact.objects.create(organization=world.org_a, name="Tia Lead", level="team_lead")
    return world


def _client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _stored(incident):
    with service_context():
        return Incident.objects.get(pk=incident.pk)


def test_staff_list_shows_open_incidents_and_filters_by_status(pages):
    client = _client(pages.staff)
    html = client.get("/ops/incidents/").content.decode()
    assert "WEDDING DAY: gallery down" in html and "emails delayed" in html
    assert html.index("WEDDING DAY") < html.index("emails delayed")  # wedding-day first
    assert "emails delayed" not in client.get("/ops/incidents/?status=resolved").content.decode()
    bad = client.get("/ops/incidents/?status=bogus")
    assert bad.status_code == 400 and "status" in bad.content.decode()


def test_staff_pages_are_404_for_vendors_and_login_for_anonymous(pages):
    for url in ("/ops/incidents/", f"/ops/incidents/{pages.a.pk}/"):
        assert _client(pages.alice).get(url).status_code == 404
        assert _client(pages.charlie).get(url).status_code == 404
        assert _client(None).get(url).status_code == 302
    assert _client(pages.alice).post(f"/ops/incidents/{pages.a.pk}/", {"action": "acknowledge"}).status_code == 404
    assert _stored(pages.a).status == "open"


def test_staff_detail_shows_timeline_alerts_wedding_and_escalation_policy(pages):
    html = _client(pages.staff).get(f"/ops/incidents/{pages.a.pk}/").content.decode()
    for text in (
        "internal: disk at 100%",
        "We are restoring uploads",
        "Ana &amp; Ben",
        "Kew Gardens",
        "gallery down",
        "built-in default",
        "wedding-day protocol on",
    ):
        assert text in html, text
    assert 'value="acknowledge"' in html and 'value="resolve"' in html  # only the moves allowed from open
    assert 'value="close"' not in html and 'value="reopen"' not in html
    assert _client(pages.staff).get("/ops/incidents/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_staff_work_an_incident_end_to_end_on_its_page(pages):
    url = f"/ops/incidents/{pages.a.pk}/"
    client = _client(pages.staff)
    for data in (
        {"action": "acknowledge"},
        {"action": "assign", "assignee": "staff", "commander": "staff"},
        {"action": "note", "message": "Failing over storage", "vendor_visible": "on"},
        {"action": "escalate", "reason": "wedding at 14:00"},
        {"action": "investigate"},
        {"action": "resolve"},
    ):
        response = client.post(url, data)
        assert response.status_code == 302, (data, response.content.decode()[:500])
    stored = _stored(pages.a)
    assert (stored.status, stored.assignee_id, stored.escalation_level) == ("resolved", pages.staff.pk, "team_lead")
    with service_context():
        kinds = list(IncidentUpdate.objects.filter(incident=pages.a).values_list("kind", flat=True))
        alert = AlertHistory.objects.get(pk=pages.alert.pk)
    assert {"status_change", "assignment", "note", "escalation"} <= set(kinds)
    # Resolving the incident resolved its alert: no longer listed or counted as firing.
    assert (alert.status, alert.resolved_in_portal) == ("resolved", alert.source != "rule")
    assert "Failing over storage" in client.get(url).content.decode()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"action": "close"}, "status"),
        ({"action": "note", "message": " "}, "message"),
        ({"action": "assign", "assignee": "alice"}, "assignee"),
        ({"action": "assign", "assignee": "nobody-like-this"}, "assignee"),
        ({"action": "merge", "into": "not-a-uuid"}, "into"),
        ({"action": "explode"}, "action"),
        ({"action": "analysis_publish"}, "analysis"),
    ],
)
def test_refused_page_actions_answer_400_naming_the_field(pages, data, field):
    response = _client(pages.staff).post(f"/ops/incidents/{pages.a.pk}/", data)
    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()


def test_staff_merge_a_duplicate_from_the_page(pages):
    with service_context():
        dup = incident_create(organization=pages.org_a, title="gallery slow", by=None, now=SATURDAY)
    response = _client(pages.staff).post(f"/ops/incidents/{dup.pk}/", {"action": "merge", "into": str(pages.a.pk)})
    assert response.status_code == 302
    assert _stored(dup).merged_into_id == pages.a.pk
    # Another organization's incident is not offered and cannot be merged in.
    refused = _client(pages.staff).post(f"/ops/incidents/{pages.b.pk}/", {"action": "merge", "into": str(pages.a.pk)})
    assert refused.status_code == 400


def test_vendor_status_page_lists_own_incidents_with_vendor_visible_updates_only(pages):
    client = _client(pages.alice)
    listing = client.get("/org/rosewood-florals/incidents/").content.decode()
    assert "WEDDING DAY: gallery down" in listing and "emails delayed" not in listing
    detail = client.get(f"/org/rosewood-florals/incidents/{pages.a.pk}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "We are restoring uploads" in html and "internal: disk at 100%" not in html
    assert "Sat 13 Jun 2026 13:00 BST" in html  # detected 12:00 UTC, shown in the organization's time zone
    assert "Ana &amp; Ben" in html


def test_vendor_pages_answer_404_to_outsiders(pages):
    bob, charlie = _client(pages.bob), _client(pages.charlie)
    assert bob.get("/org/rosewood-florals/incidents/").status_code == 404
    assert bob.get(f"/org/rosewood-florals/incidents/{pages.a.pk}/").status_code == 404
    assert bob.get(f"/org/bloom-and-vine/incidents/{pages.a.pk}/").status_code == 404  # own slug, other's incident
    assert bob.get(f"/org/bloom-and-vine/incidents/{pages.b.pk}/").status_code == 200
    assert charlie.get("/org/rosewood-florals/incidents/").status_code == 404
    assert _client(None).get("/org/rosewood-florals/incidents/").status_code == 302
    assert _client(pages.staff).get(f"/org/rosewood-florals/incidents/{pages.a.pk}/").status_code == 200


def test_admin_actions_and_manual_creation_go_through_the_services(pages):
    client = _client(pages.staff)
    with staff_context():
        from django.contrib.auth.models import Permission

        perms = Permission.objects.filter(content_type__app_label__in=["incidents", "tenancy"])
        pages.staff.user_permissions.add(*perms)
    changelist = "/admin/incidents/incident/"
    for action in ("assign_to_me", "acknowledge_selected", "escalate_selected"):
        response = client.post(changelist, {"action": action, "_selected_action": [str(pages.a.pk)]})
        assert response.status_code == 302, action
    stored = _stored(pages.a)
    assert (stored.status, stored.assignee_id, stored.escalation_level) == ("acknowledged", pages.staff.pk, "team_lead")
    response = client.post(
        "/admin/incidents/incident/add/",
        {
            "organization": str(pages.org_b.pk),
            "title": "manual one",
            "description": "",
            "priority": "p1",
            "severity": "critical",
            "wedding_impact": "none",
            "wedding": "",
            "commander": "",
            "assignee": "",
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    with service_context():
        manual = Incident.objects.get(title="manual one")
        assert manual.source == "manual" and manual.updates.filter(kind="created").count() == 1
    autocomplete = client.get(
        "/admin/autocomplete/",
        {"app_label": "incidents", "model_name": "incident", "field_name": "wedding", "term": "Ana"},
    )
    assert autocomplete.status_code == 200 and "Ana" in autocomplete.content.decode()
