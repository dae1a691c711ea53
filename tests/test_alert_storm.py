"""An alert storm is fired set-based: the same outcome as one alert at a time, in a fixed number of queries.

``rules_evaluate`` fires every due breach with ``alerts.firing.alerts_fire_many``: the new alerts, their
routed outbox rows and their incidents are written in a number of statements that does not grow with the
number of alerts (bench/evaluate.py --storm 10000 measures the time).
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.evaluation import rules_evaluate
from alerts.firing import FireCandidate, alerts_fire_many
from alerts.models import AlertHistory, AlertRule
from alerts.silences import suppression_rule_create
from apm.models import ApmMetricAggregation
from incidents.models import Incident
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization

NOW = WEDNESDAY + dt.timedelta(seconds=30)


def storm(orgs, per_org, *, now=NOW):
    """``per_org`` breaching rules in each organization (one in ten critical), with data and channels."""
    with service_context():
        for org in orgs:
            NotificationChannel.objects.get_or_create(
                organization=org,
                kind="webhook",
                name=f"{org.slug} hook",
                defaults={"config": {"url": "http://127.0.0.1:9/"}},
            )
            for k in range(per_org):
                AlertRule.objects.create(
                    organization=org,
                    name=f"Storm {k}",
                    metric_name="ms",
                    service=f"svc-{k}",
                    aggregation="p95",
                    threshold=100,
                    window_minutes=5,
                    for_seconds=0,
                    severity="critical" if k % 10 == 0 else "warning",
                    priority="medium",
                )
                ApmMetricAggregation.objects.create(
                    organization=org,
                    service=f"svc-{k}",
                    metric_name="ms",
                    bucket_seconds=60,
                    bucket_start=now.replace(second=0) - dt.timedelta(minutes=1),
                    count=20,
                    sum=20000,
                    min=900,
                    max=1100,
                    avg=1000,
                    p50=1000,
                    p95=1000,
                    p99=1100,
                )


@pytest.fixture
def orgs(world):
    with service_context():
        extra = [
            Organization.objects.create(slug=f"storm-{i}", name=f"Storm {i}", timezone="Europe/London")
            for i in range(3)
        ]
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
    return [world.org_a, *extra]


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def test_a_storm_is_fired_in_a_number_of_queries_that_does_not_grow_with_it(orgs):
    storm(orgs[:2], 10)
    with service_context():
        small = _queries(lambda: rules_evaluate(now=NOW))
        assert AlertHistory.objects.count() == 20
    storm(orgs[2:], 50)
    with service_context():
        big = _queries(lambda: rules_evaluate(now=NOW + dt.timedelta(seconds=5)))
        assert AlertHistory.objects.count() == 120
    assert big <= small + 5, (small, big)  # 100 new alerts cost what 20 did


def test_the_storm_has_the_outcome_of_firing_one_at_a_time(orgs):
    storm(orgs, 20)
    with service_context():
        suppression_rule_create(
            kind="silence",
            matchers=[{"name": "alertname", "op": "=", "value": "Storm 3"}],
            now=NOW,
            starts_at=NOW - dt.timedelta(hours=1),
            ends_at=NOW + dt.timedelta(hours=1),
            comment="known",
        )
        result = rules_evaluate(now=NOW)
        alerts = list(AlertHistory.objects.all())
        deliveries = list(NotificationDelivery.objects.filter(event="alert.firing"))
        incidents = list(Incident.objects.all())
    assert result["fired"] == 80 and len(alerts) == 80
    muted = [a for a in alerts if a.status == "suppressed"]
    assert len(muted) == 4 and all(a.labels["alertname"] == "Storm 3" for a in muted)
    # Every loud alert is routed to its organization's channel and the platform's; the muted ones nowhere.
    assert len(deliveries) == 2 * 76 and not {d.alert_id for d in deliveries} & {a.pk for a in muted}
    assert {d.payload["delivery_id"] for d in deliveries} == {str(d.pk) for d in deliveries}
    # Two critical rules per organization (Storm 0, Storm 10), each its own group: 8 incidents, each linked.
    critical = [a for a in alerts if a.severity == "critical"]
    assert len(incidents) == 8 and all(a.incident_id for a in critical)
    assert all(i.escalation_clock_at == NOW and i.group_key for i in incidents)
    with service_context():
        opened = NotificationDelivery.objects.filter(event="incident.opened").count()
    assert opened == 2 * 8


def test_alerts_of_one_group_in_one_batch_make_one_incident_and_a_saturday_makes_p0s(world):
    with service_context():
        candidates = [
            FireCandidate(
                organization_id=world.org_a.id,
                fingerprint=f"fp-{i}",
                source="alertmanager",
                title=f"instance {i} down",
                labels={"alertname": "InstanceDown", "instance": str(i)},
                annotations={},
                severity="critical",
                priority="high",
                starts_at=SATURDAY,
                group_key='{}:{alertname="InstanceDown"}',
            )
            for i in range(5)
        ]
        fired = alerts_fire_many(candidates, now=SATURDAY)
        (incident,) = Incident.objects.all()
    assert all(c.created for c in fired) and {c.alert.incident_id for c in fired} == {incident.pk}
    assert incident.priority == "p0" and incident.title == "WEDDING DAY: instance 0 down"
    with service_context():
        again = alerts_fire_many(candidates, now=SATURDAY + dt.timedelta(minutes=1))
        assert AlertHistory.objects.count() == 5  # a redelivery only touches the open alerts
    assert not any(c.created for c in again)
