"""One problem is one incident: a rule's re-firing alert joins or reopens its incident, and a rule needs a
for-duration and several samples before it fires.

Seen before: within two minutes of ``make run`` rule evaluation replaced a seeded alert with a new one for
the same rule and organization and opened a second p0; the README's single 912 ms metrics point opened
yet another p0, because the rule fired on one sample.
"""

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command

from alerts.evaluation import for_duration_s, rules_evaluate
from alerts.models import AlertHistory, AlertRule
from alerts.services import alert_fire
from apm.services import metrics_aggregate
from incidents.models import Incident, IncidentUpdate
from incidents.services import incident_resolve
from tests.conftest import WEDNESDAY
from tests.test_rule_evaluation import add_buckets, make_rule
from wedsync_ops.tenancy.context import service_context

MIN = dt.timedelta(minutes=1)
NOW = WEDNESDAY + dt.timedelta(seconds=30)


def evaluate(now):
    with service_context():
        return rules_evaluate(now=now)


def incidents(org):
    with service_context():
        return list(Incident.objects.filter(organization=org).order_by("created_at"))


def test_a_rules_alert_that_refires_while_its_incident_is_open_joins_it(world):
    make_rule(world.org_a, severity="critical")
    add_buckets(world.org_a, NOW, [900] * 5)
    evaluate(NOW)
    (incident,) = incidents(world.org_a)
    with service_context():
        Incident.objects.filter(pk=incident.pk).update(resolve_manually=True)  # the incident is being worked
    evaluate(NOW + 6 * MIN)  # the window emptied: the alert resolved, the incident stays open
    add_buckets(world.org_a, NOW + 8 * MIN, [900] * 5)
    evaluate(NOW + 8 * MIN)  # fires again: the same incident
    assert [i.pk for i in incidents(world.org_a)] == [incident.pk]
    with service_context():
        assert AlertHistory.objects.filter(incident_id=incident.pk).count() == 2
        assert IncidentUpdate.objects.filter(incident=incident, message__endswith="joined this incident").exists()


def test_a_refiring_within_the_reopen_window_reopens_and_after_it_opens_anew(world):
    make_rule(world.org_a, severity="critical")
    add_buckets(world.org_a, NOW, [900] * 5)
    evaluate(NOW)
    evaluate(NOW + 6 * MIN)  # the window emptied: alert resolved, incident resolved itself
    (incident,) = incidents(world.org_a)
    assert incident.status == "resolved"
    add_buckets(world.org_a, NOW + 20 * MIN, [900] * 5)
    evaluate(NOW + 20 * MIN)  # 14 minutes after the resolution: reopened
    (same,) = incidents(world.org_a)
    assert same.pk == incident.pk and same.status == "open"
    with service_context():
        reopened = IncidentUpdate.objects.filter(incident=incident, kind="status_change").last().message
    assert reopened.startswith("Reopened from resolved to open by the system: alert")
    assert "fired again within 30 min of the resolution" in reopened
    evaluate(NOW + 26 * MIN)  # resolved again at +26
    add_buckets(world.org_a, NOW + 60 * MIN, [900] * 5)
    evaluate(NOW + 60 * MIN)  # 34 minutes later: a new incident
    assert [i.status for i in incidents(world.org_a)] == ["resolved", "open"]


def test_inbound_alerts_of_one_group_reopen_a_just_resolved_incident(world):
    def fire(name, at):
        with service_context():
            return alert_fire(
                organization_id=world.org_a.id,
                fingerprint=name,
                source="alertmanager",
                title=name,
                labels={"alertname": name},
                annotations={},
                severity="critical",
                priority="high",
                starts_at=at,
                now=at,
                group_key='{}:{alertname="Checkout"}',
            )[0]

    first = fire("checkout-1", WEDNESDAY)
    with service_context():
        incident_resolve(incident=Incident.objects.get(pk=first.incident_id), by=world.staff, now=WEDNESDAY + MIN)
    second = fire("checkout-2", WEDNESDAY + 5 * MIN)
    assert second.incident_id == first.incident_id and len(incidents(world.org_a)) == 1


def test_defaults_for_seconds_one_minute_wedding_day_thirty_seconds_and_five_samples(world):
    rule = AlertRule(name="x", metric_name="m", threshold=1)
    assert (rule.for_seconds, rule.min_samples) == (60, 5)
    assert (for_duration_s(rule=rule, wedding_day=False), for_duration_s(rule=rule, wedding_day=True)) == (60, 30)


def test_a_breach_fires_only_after_its_for_duration(world):
    make_rule(world.org_a, for_seconds=60)
    add_buckets(world.org_a, NOW + MIN, [900] * 6)
    assert evaluate(NOW)["pending"] == 1 and evaluate(NOW)["fired"] == 0
    assert evaluate(NOW + MIN)["fired"] == 1


def test_too_few_samples_in_the_window_never_fire(world):
    make_rule(world.org_a, min_samples=5)
    add_buckets(world.org_a, NOW, [5000], counts=[4])  # four points, all slow
    assert evaluate(NOW)["breaching"] == 0
    add_buckets(world.org_a, NOW - MIN, [5000], counts=[1])  # the fifth
    assert evaluate(NOW)["fired"] == 1


@pytest.mark.django_db(transaction=False)
def test_the_readme_single_metrics_point_records_a_point_and_opens_nothing(world, client):
    """``README.md``, "See real input flow": one 912 ms point is shown on the APM page, and fires nothing."""
    import io

    out = io.StringIO()
    call_command("create_api_key", "--org", "rosewood-florals", "--key-only", stdout=out)
    with service_context():
        AlertRule.objects.create(
            organization=None,
            name="Platform p95 latency",
            metric_name="http.request.duration_ms",
            aggregation="p95",
            threshold=800,
            wedding_day_threshold=400,
            severity="critical",
        )
    with time_machine.travel(NOW, tick=False):
        body = {"metrics": [{"service": "payments", "name": "http.request.duration_ms", "value": 912.5}]}
        response = client.post(
            "/api/v1/metrics/",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}",
        )
        assert response.status_code == 202
        with service_context():
            metrics_aggregate(bucket_seconds=60)
    for minutes in (1, 2, 3):
        result = evaluate(NOW + minutes * MIN)
        assert (result["breaching"], result["fired"]) == (0, 0)
    with service_context():
        assert AlertHistory.objects.count() == 0 and Incident.objects.count() == 0
