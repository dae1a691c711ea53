"""Audit trail (issue 14 §6): django-pghistory's triggers record who changed what, under row-level security.

The tests run as the application role (tests/conftest.py), so the event tables' policies apply.
"""

import datetime as dt
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from alerts.models import AlertHistory, AlertRule
from alerts.services import integration_create
from audit.models import AlertRuleEvent, IncidentEvent, OrganizationEvent, SuppressionRuleEvent
from incidents.models import Incident, IncidentUpdate
from incidents.services import incident_create
from tests.factories import make_user_token
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def rules(world):
    with service_context():
        world.rule_a = AlertRule.objects.create(organization=world.org_a, name="A rule", metric_name="m", threshold=1)
        world.rule_b = AlertRule.objects.create(organization=world.org_b, name="B rule", metric_name="m", threshold=1)
    return world


def _events(model, obj):
    with service_context():
        return list(model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id"))


def test_an_api_edit_with_a_token_records_the_person_and_the_change(rules):
    token = make_user_token(rules.alice)
    client = APIClient()
    response = client.patch(
        f"/api/v1/alert-rules/{rules.rule_a.pk}/",
        {"threshold": 750},
        format="json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 200, response.content
    events = _events(AlertRuleEvent, rules.rule_a)
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[0].threshold == 1 and events[1].threshold == 750
    context = events[1].pgh_context
    assert (context["user"], context["username"]) == (rules.alice.pk, "alice")
    assert context["url"] == f"/api/v1/alert-rules/{rules.rule_a.pk}/"
    # The insert was made by the fixture, outside any request: no context.
    assert events[0].pgh_context is None


def test_queryset_update_which_no_signal_sees_is_recorded(rules):
    with service_context():
        assert AlertRule.objects.filter(pk=rules.rule_b.pk).update(threshold=42, enabled=False) == 1
    last = _events(AlertRuleEvent, rules.rule_b)[-1]
    assert (last.pgh_label, last.threshold, last.enabled) == ("update", 42, False)


def test_an_update_that_changes_nothing_records_nothing(rules):
    with service_context():
        AlertRule.objects.filter(pk=rules.rule_b.pk).update(threshold=1)
    assert [e.pgh_label for e in _events(AlertRuleEvent, rules.rule_b)] == ["insert"]


def test_an_incident_opened_by_the_sql_function_is_recorded(world):
    with service_context():
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source=AlertHistory.Source.ALERTMANAGER,
            fingerprint="fp-sql",
            title="booking-api p95 latency high",
            severity="critical",
            priority="high",
            labels={"alertname": "HighLatency"},
            starts_at=NOW,
        )
        with connection.cursor() as cur:
            cur.execute("SELECT create_incident_from_alert(%s)", [alert.pk])
            (incident_id,) = cur.fetchone()
        events = list(IncidentEvent.objects.filter(pgh_obj_id=incident_id))
    assert [(e.pgh_label, e.organization_id) for e in events] == [("insert", world.org_a.id)]


def test_an_integration_that_changes_a_row_is_named_in_the_context(world):
    with service_context():
        integration, token = integration_create(kind="alertmanager", name="prod", organization_id=world.org_a.id)
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "status": "firing",
        "receiver": "wedsync",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "severity": "critical"},
                "annotations": {"summary": "p95 high"},
                "startsAt": "2026-06-10T11:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom",
                "fingerprint": "abc123",
            }
        ],
    }
    response = Client().post(
        "/api/v1/integrations/alertmanager/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code in (200, 201, 202), response.content
    with service_context():
        opened = list(IncidentEvent.objects.filter(organization_id=world.org_a.id, pgh_label="insert"))
    assert opened, "a critical alert opens an incident"
    assert opened[0].pgh_context["integration"] == "alertmanager:prod"
    assert opened[0].pgh_context["integration_id"] == str(integration.pk)


def test_an_outsider_sees_no_events_and_no_context_sees_none(rules):
    with service_context():
        AlertRule.objects.filter(pk=rules.rule_a.pk).update(threshold=9)
    with vendor_context(rules.org_b.id):
        assert not AlertRuleEvent.objects.filter(pgh_obj_id=rules.rule_a.pk).exists()
        assert set(AlertRuleEvent.objects.values_list("organization_id", flat=True)) == {rules.org_b.id}
        assert not OrganizationEvent.objects.exclude(pgh_obj_id=rules.org_b.id).exists()
    with vendor_context(rules.org_a.id):
        assert AlertRuleEvent.objects.filter(pgh_obj_id=rules.rule_a.pk).count() == 2
    with transaction.atomic():
        assert AlertRuleEvent.objects.count() == 0  # no context: no rows
    with staff_context():
        assert AlertRuleEvent.objects.count() == 3


def test_a_vendor_cannot_forge_an_event_of_another_organization(rules):
    with vendor_context(rules.org_b.id), pytest.raises(DatabaseError):
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO audit_alert_rule_events (pgh_created_at, pgh_label, pgh_obj_id, id, organization_id,"
                    " name, metric_name, threshold)"
                    " SELECT now(), 'update', id, id, organization_id, name, metric_name, 0"
                    " FROM alert_configurations WHERE id = %s",
                    [rules.rule_a.pk],
                )
                assert cur.rowcount == 0  # org A's rule is invisible, so nothing to copy…
                cur.execute(
                    "INSERT INTO audit_alert_rule_events (pgh_created_at, pgh_label, pgh_obj_id, id, organization_id,"
                    " name, metric_name, threshold, aggregation, comparison, window_minutes, severity, priority)"
                    " VALUES (now(), 'update', %s, %s, %s, 'x', 'm', 0, 'avg', 'above', 5, 'warning', 'low')",
                    [rules.rule_a.pk, rules.rule_a.pk, rules.org_a.id],
                )  # …and a made-up row is refused


def test_events_are_append_only(rules):
    with service_context(), pytest.raises(DatabaseError):
        with transaction.atomic():
            AlertRuleEvent.objects.filter(pgh_obj_id=rules.rule_a.pk).update(threshold=0)
    with service_context(), pytest.raises(DatabaseError):
        with transaction.atomic():
            AlertRuleEvent.objects.filter(pgh_obj_id=rules.rule_a.pk).delete()


def test_organization_settings_are_tracked(world):
    with service_context():
        type(world.org_a).objects.filter(pk=world.org_a.pk).update(status_page_public=True)
    last = _events(OrganizationEvent, world.org_a)[-1]
    assert (last.pgh_label, last.status_page_public) == ("update", True)


# --- admin -------------------------------------------------------------------------------------


@pytest.fixture
def incident(world):
    with service_context():
        return incident_create(organization=world.org_a, title="Checkout down", by=world.staff, now=NOW)


def _staff_client(world):
    world.staff.is_superuser = True
    world.staff.save()
    client = Client()
    client.force_login(world.staff)
    return client


def test_the_admin_change_form_links_to_the_objects_history(world, incident):
    client = _staff_client(world)
    page = client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "/admin/audit/incidentevent/?obj=incidents.Incident:" in page and "incident history" in page
    listing = client.get(f"/admin/audit/incidentevent/?obj=incidents.Incident:{incident.pk}")
    assert listing.status_code == 200 and "Checkout down" in listing.content.decode()
    events = client.get(f"/admin/pghistory/middlewareevents/?method=tracks&obj=incidents.Incident:{incident.pk}")
    assert events.status_code == 200


def test_vendors_get_no_audit_admin(world):
    client = Client()
    client.force_login(world.alice)
    for url in ("/admin/audit/incidentevent/", "/admin/audit/alertruleevent/", "/admin/pghistory/middlewareevents/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_incident_timeline_entries_cannot_be_edited_or_deleted_in_the_admin(world, incident):
    client = _staff_client(world)
    with service_context():
        entry = IncidentUpdate.objects.filter(incident=incident).first()
    change_url = f"/admin/incidents/incidentupdate/{entry.pk}/change/"
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="message"' not in page.content.decode()  # read-only view
    client.post(change_url, {"incident": str(incident.pk), "kind": "note", "message": "rewritten"})
    assert client.get(f"/admin/incidents/incidentupdate/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/incidents/incidentupdate/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(
        "/admin/incidents/incidentupdate/",
        {"action": "delete_selected", "_selected_action": [str(entry.pk)], "post": "yes"},
    )
    with service_context():
        again = IncidentUpdate.objects.get(pk=entry.pk)
    assert again.message == entry.message
    # On the incident's own change form the timeline rows are read-only and cannot be deleted.
    form = client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "updates-0-message" not in form and "updates-0-DELETE" not in form


def test_a_note_added_in_the_admin_goes_through_the_service(world, incident):
    client = _staff_client(world)
    response = client.post(
        "/admin/incidents/incidentupdate/add/",
        {"incident": str(incident.pk), "message": "Vendor called", "vendor_visible": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    with service_context():
        note = IncidentUpdate.objects.get(message="Vendor called")
    assert (note.kind, note.author_id, note.organization_id) == ("note", world.staff.pk, world.org_a.id)


# --- portal history sections -------------------------------------------------------------------


def test_the_incident_pages_show_the_history_to_its_organization_only(world, incident):
    staff = Client()
    staff.force_login(world.staff)
    staff.post(f"/ops/incidents/{incident.pk}/", {"action": "acknowledge"})
    with service_context():
        Incident.objects.filter(pk=incident.pk).update(title="Checkout down (card payments)")
    alice = Client()
    alice.force_login(world.alice)
    page = alice.get(f"/org/{world.org_a.slug}/incidents/{incident.pk}/").content.decode()
    assert 'id="history"' in page and "Checkout down (card payments)" in page and "Created" in page
    bob = Client()
    bob.force_login(world.bob)
    assert bob.get(f"/org/{world.org_a.slug}/incidents/{incident.pk}/").status_code == 404


def test_history_pages_show_an_objects_changes_to_its_organization_and_staff_only(rules):
    with service_context():
        AlertRule.objects.filter(pk=rules.rule_a.pk).update(threshold=750)
    alice = Client()
    alice.force_login(rules.alice)
    page = alice.get(f"/org/{rules.org_a.slug}/history/rule/{rules.rule_a.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "History of rule “A rule”" in text and "1.0 → 750.0" in text
    assert (
        f"/org/{rules.org_a.slug}/history/rule/{rules.rule_a.pk}/"
        in alice.get(f"/org/{rules.org_a.slug}/alerts/rules/").content.decode()
    )
    settings_page = alice.get(f"/org/{rules.org_a.slug}/history/organization/{rules.org_a.pk}/")
    assert settings_page.status_code == 200 and "Created" in settings_page.content.decode()
    # Another organization's object, through her own organization's URL or theirs: 404.
    assert alice.get(f"/org/{rules.org_a.slug}/history/rule/{rules.rule_b.pk}/").status_code == 404
    assert alice.get(f"/org/{rules.org_b.slug}/history/rule/{rules.rule_b.pk}/").status_code == 404
    assert alice.get(f"/org/{rules.org_a.slug}/history/organization/{rules.org_b.pk}/").status_code == 404
    assert alice.get(f"/ops/history/rule/{rules.rule_a.pk}/").status_code == 404
    assert alice.get(f"/org/{rules.org_a.slug}/history/nonsense/{rules.rule_a.pk}/").status_code == 404
    staff = Client()
    staff.force_login(rules.staff)
    assert staff.get(f"/ops/history/rule/{rules.rule_b.pk}/").status_code == 200
    anonymous = Client().get(f"/org/{rules.org_a.slug}/history/rule/{rules.rule_a.pk}/")
    assert anonymous.status_code in (302, 404)


def test_a_silence_added_with_the_real_amtool_is_recorded_as_the_integrations(world, tmp_path, live_server):
    """amtool (Alertmanager's CLI) against the Alertmanager API v2 with an integration token."""
    from tests.test_alertmanager_api_v2 import amtool

    with service_context():
        integration, token = integration_create(kind="alertmanager", name="rosewood am", organization_id=world.org_a.id)
    world.tokens = {"rose": token}
    world.tmp = tmp_path
    result = amtool(
        world,
        live_server,
        "rose",
        "silence",
        "add",
        "alertname=HighCheckoutLatency",
        "--duration=1h",
        "--comment=deploying the fix",
    )
    assert result.returncode == 0, result.stderr
    silence_id = result.stdout.strip()
    with service_context():
        event = SuppressionRuleEvent.objects.get(pgh_obj_id=silence_id, pgh_label="insert")
    assert event.pgh_context["integration"] == "alertmanager:rosewood am"
    assert event.pgh_context["url"] == "/api/v2/silences"
    assert event.organization_id == world.org_a.id


def test_a_celery_task_that_changes_a_row_is_named_in_the_context(rules):
    from audit.selectors import actor_label
    from wedsync_ops.celery import app

    @app.task(name="tests.audit.raise_threshold")
    def raise_threshold(pk):
        with service_context():
            AlertRule.objects.filter(pk=pk).update(threshold=99)

    raise_threshold.apply(args=[rules.rule_a.pk])
    last = _events(AlertRuleEvent, rules.rule_a)[-1]
    assert (last.threshold, last.pgh_context["job"]) == (99, "tests.audit.raise_threshold")
    assert actor_label(last.pgh_context) == "job tests.audit.raise_threshold"
    # The context ends with the task: a later write outside any task or request has none.
    with service_context():
        AlertRule.objects.filter(pk=rules.rule_a.pk).update(threshold=100)
    assert _events(AlertRuleEvent, rules.rule_a)[-1].pgh_context is None


def test_metric_ingest_opens_no_audit_context_but_a_tracked_edit_does(rules):
    """Views that write only untracked tables (audit_context = False) run their SQL without pghistory's
    set_config prefix; a view that writes a tracked row still gets it (audit/middleware.py)."""
    from django.test.utils import CaptureQueriesContext

    from apm.services import api_key_create

    with service_context():
        _row, key = api_key_create(organization=rules.org_a, name="ingest")
    client = APIClient()
    body = {"metrics": [{"service": "checkout-api", "name": "http.request.duration", "value": 1.5}]}
    with CaptureQueriesContext(connection) as ingest:
        response = client.post("/api/v1/metrics/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 202, response.content
    assert ingest.captured_queries
    assert not [q["sql"] for q in ingest.captured_queries if "pghistory.context" in q["sql"]]

    token = make_user_token(rules.alice)
    with CaptureQueriesContext(connection) as edit:
        response = client.patch(
            f"/api/v1/alert-rules/{rules.rule_a.pk}/",
            {"threshold": 751},
            format="json",
            HTTP_AUTHORIZATION=f"Token {token}",
        )
    assert response.status_code == 200, response.content
    assert [q for q in edit.captured_queries if "pghistory.context" in q["sql"]]
