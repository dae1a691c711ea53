"""The incidents API's working actions: investigate, close, reopen, escalate, notes (staff only)."""

import pytest
from rest_framework.test import APIClient

from incidents.models import IncidentUpdate
from incidents.services import incident_create
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context


@pytest.fixture
def incident(world):
    with service_context():
        world.incident = incident_create(
            organization=world.org_a, title="api errors", by=None, now=WEDNESDAY, priority="p1"
        )
    return world


def _api(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_staff_investigate_escalate_note_resolve_reopen_through_the_api(incident):
    w = incident
    base = f"/api/v1/incidents/{w.incident.pk}"
    client = _api(w.staff)
    assert client.post(f"{base}/investigate/").json()["status"] == "investigating"
    escalated = client.post(f"{base}/escalate/", {"reason": "customer call"}, format="json")
    assert escalated.status_code == 200 and escalated.json()["escalation_level"] == "team_lead"
    note = client.post(f"{base}/notes/", {"message": "Rolled back", "vendor_visible": True}, format="json")
    assert note.status_code == 200
    assert any(u["message"] == "Rolled back" and u["vendor_visible"] for u in note.json()["updates"])
    assert client.post(f"{base}/resolve/").json()["status"] == "resolved"
    closing = client.post(f"{base}/close/")
    assert closing.status_code == 400 and "published post-incident analysis" in str(closing.json()["status"])
    assert client.post(f"{base}/reopen/").json()["status"] == "open"


@pytest.mark.parametrize(
    "body, field", [({"message": ""}, "message"), ({"message": "x", "vendor_visible": "yes"}, "vendor_visible")]
)
def test_bad_note_answers_400_naming_the_field(incident, body, field):
    response = _api(incident.staff).post(f"/api/v1/incidents/{incident.incident.pk}/notes/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_vendors_cannot_work_incidents_and_other_orgs_get_404(incident):
    w = incident
    base = f"/api/v1/incidents/{w.incident.pk}"
    for action in ("investigate", "close", "reopen", "escalate", "notes"):
        assert _api(w.alice).post(f"{base}/{action}/", {"message": "x"}, format="json").status_code == 403
        assert _api(w.bob).post(f"{base}/{action}/", {"message": "x"}, format="json").status_code == 404
        assert _api(w.charlie).post(f"{base}/{action}/", {"message": "x"}, format="json").status_code == 404
    with service_context():
        assert IncidentUpdate.objects.filter(incident=w.incident).count() == 1


def test_detail_lists_source_alerts_and_the_matched_runbook(world):
    from alerts.models import AlertHistory
    from incidents.runbooks import runbook_save
    from incidents.services import incident_open_from_alert

    with service_context():
        rb = runbook_save(
            title="Gallery", content="# Fix", by=None, now=WEDNESDAY, organization=world.org_a, service="gallery"
        )
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="f",
            title="gallery down",
            severity="critical",
            starts_at=WEDNESDAY,
            labels={"service": "gallery"},
        )
        incident = incident_open_from_alert(alert=alert, now=WEDNESDAY)
    body = _api(world.alice).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert [a["id"] for a in body["source_alerts"]] == [str(alert.pk)]
    assert body["runbook"]["id"] == str(rb.pk) and body["source"] == "alert"
    assert _api(world.bob).get(f"/api/v1/incidents/{incident.pk}/").status_code == 404
