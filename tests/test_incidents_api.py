"""The incidents API (/api/v1/incidents/) and the incidents admin: who sees and changes what."""

import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from alerts.models import AlertHistory
from incidents.models import Incident, IncidentUpdate
from incidents.services import incident_open_from_alert
from tests.conftest import SATURDAY, WEDNESDAY
from tests.factories import make_user_token
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Wedding


@pytest.fixture
def incidents(world):
    """org A: a wedding-day p0 (Saturday, linked to a wedding) and a weekday p1; org B: a p2; one unassigned."""

    def open_for(org, title, severity, at):
        alert = AlertHistory.objects.create(
            organization=org,
            source="alertmanager",
            fingerprint=title,
            title=title,
            severity=severity,
            labels={"alertname": title},
            starts_at=at,
        )
        return incident_open_from_alert(alert=alert, now=at)

    with service_context():
        world.wedding = Wedding.objects.create(
            organization=world.org_a,
            wedding_date=dt.date(2026, 6, 13),
            couple_name="Ana & Ben",
            venue_name="Kew Gardens",
            ceremony_time=dt.time(14, 0),
        )
        world.a_p0 = open_for(world.org_a, "gallery down", "critical", SATURDAY)
        world.a_p1 = open_for(world.org_a, "payments slow", "critical", WEDNESDAY)
        world.b_p2 = open_for(world.org_b, "email queue backlog", "warning", WEDNESDAY)
        world.unassigned = open_for(None, "unknown org alert", "critical", WEDNESDAY)
        IncidentUpdate.objects.create(
            organization=world.org_a,
            incident=world.a_p0,
            kind="note",
            message="internal: db failover",
            vendor_visible=False,
        )
    return world


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_vendor_lists_only_their_organizations_incidents(incidents):
    w = incidents
    assert ids(client_for(w.alice).get("/api/v1/incidents/")) == {str(w.a_p0.id), str(w.a_p1.id)}
    assert ids(client_for(w.bob).get("/api/v1/incidents/")) == {str(w.b_p2.id)}


def test_staff_lists_every_incident_including_unassigned(incidents):
    w = incidents
    response = client_for(w.staff).get("/api/v1/incidents/")
    assert ids(response) == {str(i.id) for i in (w.a_p0, w.a_p1, w.b_p2, w.unassigned)}
    assert response.json()["count"] == 4


def test_user_without_organization_lists_nothing_and_anonymous_is_refused(incidents):
    assert ids(client_for(incidents.charlie).get("/api/v1/incidents/")) == set()
    assert client_for(None).get("/api/v1/incidents/").status_code == 401
    assert client_for(None).get(f"/api/v1/incidents/{incidents.a_p0.id}/").status_code == 401


def test_list_item_shape_with_wedding_summary(incidents):
    response = client_for(incidents.alice).get("/api/v1/incidents/", {"priority": "p0"})
    (item,) = response.json()["results"]
    assert item["title"] == "WEDDING DAY: gallery down"
    assert item["organization"] == "rosewood-florals"
    assert item["wedding_impact"] == "wedding_day_critical"
    assert item["wedding"] == {
        "id": str(incidents.wedding.id),
        "couple_name": "Ana & Ben",
        "wedding_date": "2026-06-13",
        "venue_name": "Kew Gardens",
        "ceremony_time": "14:00:00",
    }
    assert item["detected_at"].startswith("2026-06-13T12:00:00")


def test_detail_for_own_incident_shows_vendor_visible_timeline_only(incidents):
    url = f"/api/v1/incidents/{incidents.a_p0.id}/"
    vendor = client_for(incidents.alice).get(url).json()
    staff = client_for(incidents.staff).get(url).json()
    assert [u["kind"] for u in vendor["updates"]] == ["created"]
    assert [u["kind"] for u in staff["updates"]] == ["created", "note"]
    assert "internal: db failover" not in str(vendor)


def test_another_organizations_incident_answers_404_like_an_unknown_id(incidents):
    bob = client_for(incidents.bob)
    other = bob.get(f"/api/v1/incidents/{incidents.a_p0.id}/")
    unknown = bob.get(f"/api/v1/incidents/{uuid.uuid4()}/")
    unassigned = bob.get(f"/api/v1/incidents/{incidents.unassigned.id}/")
    assert other.status_code == unknown.status_code == unassigned.status_code == 404
    assert other.json() == unknown.json()
    assert client_for(incidents.charlie).get(f"/api/v1/incidents/{incidents.b_p2.id}/").status_code == 404


def test_token_authentication_sets_the_vendor_context(incidents):
    with service_context():
        token = make_user_token(incidents.bob)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert ids(client.get("/api/v1/incidents/")) == {str(incidents.b_p2.id)}
    assert client.get(f"/api/v1/incidents/{incidents.a_p1.id}/").status_code == 404


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"priority": "p0"}, {"a_p0"}),
        ({"priority": "p1"}, {"a_p1", "unassigned"}),
        ({"wedding_impact": "wedding_day_critical"}, {"a_p0"}),
        ({"wedding_impact": "none", "priority": "p2"}, {"b_p2"}),
        ({"status": "open"}, {"a_p0", "a_p1", "b_p2", "unassigned"}),
        ({"status": "resolved"}, set()),
        ({"organization": "bloom-and-vine"}, {"b_p2"}),
    ],
)
def test_filters(incidents, query, expected):
    assert ids(client_for(incidents.staff).get("/api/v1/incidents/", query)) == {
        str(getattr(incidents, name).id) for name in expected
    }


def test_an_unknown_filter_value_answers_400_naming_the_field(incidents):
    response = client_for(incidents.staff).get("/api/v1/incidents/", {"priority": "urgent"})
    assert response.status_code == 400
    assert "priority" in response.json() and "valid choice" in str(response.json()["priority"])


def test_staff_acknowledges_then_resolves_through_the_api(incidents):
    staff = client_for(incidents.staff)
    url = f"/api/v1/incidents/{incidents.a_p1.id}/"
    response = staff.post(url + "acknowledge/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged" and response.json()["acknowledged_at"]
    again = staff.post(url + "acknowledge/")
    assert again.status_code == 400 and "acknowledged to acknowledged" in str(again.json()["status"])
    assert staff.post(url + "resolve/").json()["status"] == "resolved"
    with service_context():
        stored = Incident.objects.get(pk=incidents.a_p1.pk)
        assert stored.status == "resolved" and stored.resolved_at is not None
        assert IncidentUpdate.objects.filter(incident=stored, kind="status_change", author=incidents.staff).count() == 2


def test_vendor_gets_403_on_their_own_incident_and_404_on_anothers(incidents):
    alice = client_for(incidents.alice)
    own = alice.post(f"/api/v1/incidents/{incidents.a_p1.id}/acknowledge/")
    others = alice.post(f"/api/v1/incidents/{incidents.b_p2.id}/acknowledge/")
    assert own.status_code == 403
    assert others.status_code == 404
    with service_context():
        assert set(Incident.objects.values_list("status", flat=True)) == {"open"}


# --- admin -------------------------------------------------------------------


@pytest.fixture
def ops(incidents):
    perms = Permission.objects.filter(content_type__app_label="incidents")
    incidents.staff.user_permissions.add(*perms)
    return incidents


def test_incident_admin_lists_incidents_and_shows_the_timeline_for_staff(ops):
    client = client_for(ops.staff)
    changelist = client.get("/admin/incidents/incident/", {"priority__exact": "p0"})
    assert changelist.status_code == 200
    assert "WEDDING DAY: gallery down" in changelist.content.decode()
    assert "payments slow" not in changelist.content.decode()
    change = client.get(f"/admin/incidents/incident/{ops.a_p0.id}/change/")
    assert change.status_code == 200 and "internal: db failover" in change.content.decode()
    assert client.get("/admin/incidents/incident/", {"q": "email queue"}).content.decode().count("email queue") >= 1


def test_incident_admin_actions_call_the_services(ops):
    client = client_for(ops.staff)
    response = client.post(
        "/admin/incidents/incident/",
        {"action": "acknowledge_selected", "_selected_action": [str(ops.a_p0.id), str(ops.b_p2.id)]},
        follow=True,
    )
    assert "Acknowledged 2 incident(s)." in response.content.decode()
    response = client.post(
        "/admin/incidents/incident/",
        {"action": "acknowledge_selected", "_selected_action": [str(ops.a_p0.id)]},
        follow=True,
    )
    assert "Not acknowledged" in response.content.decode()
    client.post("/admin/incidents/incident/", {"action": "resolve_selected", "_selected_action": [str(ops.b_p2.id)]})
    with service_context():
        assert Incident.objects.get(pk=ops.a_p0.pk).status == "acknowledged"
        assert Incident.objects.get(pk=ops.b_p2.pk).status == "resolved"


def test_vendor_gets_no_incident_admin(incidents):
    response = client_for(incidents.alice).get("/admin/incidents/incident/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_note_added_in_admin_belongs_to_the_incidents_organization(ops):
    client = client_for(ops.staff)
    response = client.post(
        "/admin/incidents/incidentupdate/add/",
        {"incident": str(ops.b_p2.id), "kind": "note", "message": "Vendor informed by phone", "vendor_visible": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with service_context():
        note = IncidentUpdate.objects.get(message="Vendor informed by phone")
    assert (note.organization_id, note.author_id, note.vendor_visible) == (ops.org_b.id, ops.staff.id, True)
    # bob (org B) sees it on his incident's timeline; alice cannot reach it at all.
    updates = client_for(ops.bob).get(f"/api/v1/incidents/{ops.b_p2.id}/").json()["updates"]
    assert "Vendor informed by phone" in [u["message"] for u in updates]
