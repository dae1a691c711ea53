"""Threshold rule evaluation over 1-minute aggregations: firing, resolving, wedding-day thresholds, local time."""

import datetime as dt

import pytest
import time_machine
from django.db import connection

from alerts.evaluation import rule_alert_labels, rules_evaluate
from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory, AlertRule
from alerts.selectors import rule_evaluation_rows
from alerts.tasks import evaluate_rules
from apm.models import ApmMetricAggregation
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

SERVICE = "payments"
METRIC = "checkout_ms"


def window_end(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0)


def add_buckets(org, now, values, *, service=SERVICE, metric=METRIC, field="p95", counts=None, sums=None):
    """One complete 1-minute bucket per value, the last one ending at ``now`` floored to the minute.

    ``values`` set ``field`` (and every percentile, min, max, avg unless ``field`` is one of them);
    ``counts``/``sums`` override count and sum per bucket.
    """
    end = window_end(now)
    with service_context():
        for index, value in enumerate(values):
            start = end - dt.timedelta(minutes=len(values) - index)
            row = dict(count=10, sum=value * 10, min=value, max=value, avg=value, p50=value, p95=value, p99=value)
            row[field] = value
            if counts is not None:
                row["count"] = counts[index]
            if sums is not None:
                row["sum"] = sums[index]
            ApmMetricAggregation.objects.create(
                organization=org, service=service, metric_name=metric, bucket_seconds=60, bucket_start=start, **row
            )


def make_rule(org=None, **overrides):
    """A threshold rule; it fires on the first breaching evaluation (``for_seconds=0``) unless told otherwise:
    the default for-duration (60 s) and minimum sample count (5) have their own tests."""
    fields = dict(
        organization=org,
        name="Checkout latency",
        metric_name=METRIC,
        service=SERVICE,
        aggregation="p95",
        comparison="above",
        threshold=500,
        window_minutes=5,
        severity="warning",
        priority="medium",
        for_seconds=0,
    )
    fields.update(overrides)
    with service_context():
        return AlertRule.objects.create(**fields)


def evaluate(now):
    with service_context():
        return rules_evaluate(now=now)


def alerts():
    with service_context():
        return list(AlertHistory.objects.select_related("organization").order_by("organization__slug", "starts_at"))


def rows(now):
    with service_context():
        return rule_evaluation_rows(now=now)


NOW_WED = WEDNESDAY + dt.timedelta(seconds=30)
NOW_SAT = SATURDAY + dt.timedelta(seconds=30)


# --- firing and resolving ---------------------------------------------------------


def test_rule_fires_above_its_threshold_and_records_threshold_and_reason(world):
    rule = make_rule(world.org_a, labels={"team": "checkout"}, runbook_url="https://runbooks.example/checkout")
    add_buckets(world.org_a, NOW_WED, [420, 812, 640, 500, 300])
    assert evaluate(NOW_WED) == {"evaluated": 1, "breaching": 1, "pending": 0, "fired": 1, "resolved": 0, "errors": 0}
    (alert,) = alerts()
    assert alert.organization_id == world.org_a.id and alert.rule_id == rule.id and alert.source == "rule"
    assert alert.status == "firing" and (alert.severity, alert.priority) == ("warning", "medium")
    assert alert.value == 812 and alert.threshold == 500 and alert.threshold_reason == "standard threshold"
    assert alert.title == "Checkout latency: payments checkout_ms p95 812 > 500"
    assert alert.starts_at == NOW_WED
    assert alert.labels == {
        "alertname": "Checkout latency",
        "rule_id": str(rule.id),
        "organization": "rosewood-florals",
        "service": "payments",
        "metric": "checkout_ms",
        "team": "checkout",
    }
    assert alert.fingerprint == labels_fingerprint(alert.labels)
    assert alert.annotations["runbook_url"] == "https://runbooks.example/checkout"


def test_title_carries_the_metric_unit_of_the_raw_points(world):
    make_rule(world.org_a)
    add_buckets(world.org_a, NOW_WED, [812])
    with service_context(), connection.cursor() as cur:
        cur.execute("SELECT apm_ensure_metric_partitions(%s, %s)", [NOW_WED.date(), NOW_WED.date()])
        cur.execute(
            "INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, recorded_at)"
            " VALUES (%s, %s, %s, 812, 'ms', %s)",
            [world.org_a.id, SERVICE, METRIC, window_end(NOW_WED) - dt.timedelta(seconds=30)],
        )
    evaluate(NOW_WED)
    assert alerts()[0].title == "Checkout latency: payments checkout_ms p95 812 ms > 500 ms"


def test_rule_does_not_fire_at_or_below_its_threshold(world):
    make_rule(world.org_a)
    add_buckets(world.org_a, NOW_WED, [500, 499, 120])
    assert evaluate(NOW_WED)["fired"] == 0
    assert alerts() == []


def test_next_evaluation_touches_the_open_alert_instead_of_opening_another(world):
    make_rule(world.org_a)
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    later = NOW_WED + dt.timedelta(minutes=1)
    add_buckets(world.org_a, later, [900])
    assert evaluate(later)["fired"] == 0
    (alert,) = alerts()
    assert alert.value == 900 and alert.last_received_at == later and alert.starts_at == NOW_WED


def test_alert_resolves_when_the_breach_clears(world):
    make_rule(world.org_a)
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    later = NOW_WED + dt.timedelta(minutes=10)
    add_buckets(world.org_a, later, [120, 130])
    assert evaluate(later) == {"evaluated": 1, "breaching": 0, "pending": 0, "fired": 0, "resolved": 1, "errors": 0}
    (alert,) = alerts()
    assert alert.status == "resolved" and alert.ends_at == later and alert.resolved_at == later
    # Breaching again later opens a new alert.
    again = later + dt.timedelta(minutes=10)
    add_buckets(world.org_a, again, [700])
    assert evaluate(again)["fired"] == 1
    assert [a.status for a in alerts()] == ["resolved", "firing"]


def test_alert_resolves_when_no_data_is_left_in_the_window_or_the_rule_is_disabled(world):
    rule = make_rule(world.org_a)
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    assert evaluate(NOW_WED + dt.timedelta(minutes=6))["resolved"] == 1
    add_buckets(world.org_a, NOW_WED + dt.timedelta(minutes=20), [812])
    assert evaluate(NOW_WED + dt.timedelta(minutes=20))["fired"] == 1
    with service_context():
        AlertRule.objects.filter(pk=rule.pk).update(enabled=False)
    assert evaluate(NOW_WED + dt.timedelta(minutes=20))["resolved"] == 1
    assert [a.status for a in alerts()] == ["resolved", "resolved"]


def test_celery_task_evaluates_in_a_service_context_at_the_current_time(world):
    make_rule(world.org_a)
    add_buckets(world.org_a, NOW_WED, [812])
    with time_machine.travel(NOW_WED, tick=False):
        counts = evaluate_rules()
    assert counts == {"evaluated": 1, "breaching": 1, "pending": 0, "fired": 1, "resolved": 0, "errors": 0}
    assert alerts()[0].starts_at == NOW_WED


# --- the window and the aggregations ----------------------------------------------


def test_only_complete_buckets_inside_the_window_count(world):
    make_rule(world.org_a)
    end = window_end(NOW_WED)
    with service_context():
        for start in (end, end - dt.timedelta(minutes=6)):  # still filling; before the 5-minute window
            ApmMetricAggregation.objects.create(
                organization=world.org_a,
                service=SERVICE,
                metric_name=METRIC,
                bucket_seconds=60,
                bucket_start=start,
                count=1,
                sum=9000,
                min=9000,
                max=9000,
                avg=9000,
                p50=9000,
                p95=9000,
                p99=9000,
            )
        # Another bucket width is not a 1-minute bucket.
        ApmMetricAggregation.objects.create(
            organization=world.org_a,
            service=SERVICE,
            metric_name=METRIC,
            bucket_seconds=3600,
            bucket_start=end - dt.timedelta(hours=1),
            count=1,
            sum=9000,
            min=9000,
            max=9000,
            avg=9000,
            p50=9000,
            p95=9000,
            p99=9000,
        )
    add_buckets(world.org_a, NOW_WED, [100, 200])
    (row,) = rows(NOW_WED)
    assert row.value == 200 and row.buckets == 2
    assert row.window_start == end - dt.timedelta(minutes=5) and row.window_end == end
    assert evaluate(NOW_WED)["fired"] == 0


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("avg", 250.0),  # sum(sum)/sum(count) = 10000/40, not the mean of the bucket averages (200)
        ("count", 40.0),
        ("sum", 10000.0),
        ("min", 50.0),
        ("max", 700.0),
        ("p50", 320.0),  # percentiles: the highest 1-minute value in the window
        ("p95", 620.0),
        ("p99", 690.0),
    ],
)
def test_each_aggregation_over_the_window(world, aggregation, expected):
    make_rule(world.org_a, aggregation=aggregation, threshold=1e9)
    end = window_end(NOW_WED)
    with service_context():
        for minutes, stats in (
            (2, dict(count=10, sum=1000, min=50, max=300, avg=100, p50=90, p95=280, p99=299)),
            (1, dict(count=30, sum=9000, min=60, max=700, avg=300, p50=320, p95=620, p99=690)),
        ):
            ApmMetricAggregation.objects.create(
                organization=world.org_a,
                service=SERVICE,
                metric_name=METRIC,
                bucket_seconds=60,
                bucket_start=end - dt.timedelta(minutes=minutes),
                **stats,
            )
    (row,) = rows(NOW_WED)
    assert row.aggregation == aggregation and row.value == pytest.approx(expected)


def test_rule_without_service_covers_every_service_and_a_service_rule_only_its_own(world):
    make_rule(world.org_a, name="Any service", service="")
    make_rule(world.org_a, name="Search only", service="search")
    add_buckets(world.org_a, NOW_WED, [812], service="payments")
    add_buckets(world.org_a, NOW_WED, [900], service="search")
    assert evaluate(NOW_WED)["fired"] == 3
    assert sorted((a.labels["alertname"], a.labels["service"]) for a in alerts()) == [
        ("Any service", "payments"),
        ("Any service", "search"),
        ("Search only", "search"),
    ]


def test_below_rules_fire_under_their_threshold(world):
    make_rule(
        world.org_a,
        name="Bookings dropped",
        metric_name="bookings",
        aggregation="count",
        comparison="below",
        threshold=100,
    )
    add_buckets(world.org_a, NOW_WED, [1, 1], metric="bookings", counts=[20, 30])
    evaluate(NOW_WED)
    (alert,) = alerts()
    assert alert.value == 50 and alert.title == "Bookings dropped: payments bookings count 50 < 100"


def test_disabled_and_non_threshold_rules_are_not_evaluated(world):
    make_rule(world.org_a, enabled=False)
    make_rule(world.org_a, alert_type="anomaly")
    add_buckets(world.org_a, NOW_WED, [812])
    assert evaluate(NOW_WED)["evaluated"] == 0
    assert alerts() == []


# --- wedding days, seasons and local time ----------------------------------------------


def test_wedding_day_threshold_applies_on_a_local_saturday(world):
    make_rule(world.org_a, wedding_day_threshold=300)
    add_buckets(world.org_a, NOW_SAT, [400])
    evaluate(NOW_SAT)
    (alert,) = alerts()
    assert alert.threshold == 300
    assert alert.threshold_reason == "wedding day: local Saturday 2026-06-13"
    assert alert.title == "Checkout latency: payments checkout_ms p95 400 > 300"


def test_wedding_day_threshold_applies_on_a_weekday_with_a_wedding(world):
    make_rule(world.org_a, wedding_day_threshold=300)
    with service_context():
        Wedding.objects.create(organization=world.org_a, wedding_date=dt.date(2026, 6, 10), couple_name="A & B")
    add_buckets(world.org_a, NOW_WED, [400])
    evaluate(NOW_WED)
    (alert,) = alerts()
    assert (alert.threshold, alert.threshold_reason) == (300, "wedding day: a wedding on 2026-06-10 (local)")


def test_standard_threshold_applies_on_a_weekday_without_a_wedding(world):
    make_rule(world.org_a, wedding_day_threshold=300)
    with service_context():  # a cancelled wedding does not count; another organization's wedding neither
        Wedding.objects.create(
            organization=world.org_a, wedding_date=dt.date(2026, 6, 10), couple_name="X", status="cancelled"
        )
        Wedding.objects.create(organization=world.org_b, wedding_date=dt.date(2026, 6, 10), couple_name="Y")
    add_buckets(world.org_a, NOW_WED, [400])
    (row,) = rows(NOW_WED)
    assert (row.threshold, row.threshold_reason, row.breaching) == (500, "standard threshold", False)
    assert evaluate(NOW_WED)["fired"] == 0


def test_local_time_zones_decide_the_wedding_day(world):
    # 2026-06-12 22:30 UTC: Saturday 08:30 in Sydney, still Friday 23:30 in London.
    now = dt.datetime(2026, 6, 12, 22, 30, 30, tzinfo=dt.UTC)
    make_rule(None, name="Platform checkout latency", wedding_day_threshold=300)
    add_buckets(world.org_a, now, [400])
    add_buckets(world.org_b, now, [400])
    by_org = {row.organization_slug: row for row in rows(now)}
    assert (by_org["bloom-and-vine"].threshold, by_org["bloom-and-vine"].threshold_reason) == (
        300,
        "wedding day: local Saturday 2026-06-13",
    )
    assert (by_org["rosewood-florals"].threshold, by_org["rosewood-florals"].threshold_reason) == (
        500,
        "standard threshold",
    )
    evaluate(now)
    assert [a.organization.slug for a in alerts()] == ["bloom-and-vine"]


def test_wedding_season_makes_the_threshold_20_percent_stricter_from_may_to_october(world):
    make_rule(world.org_a, wedding_season_adjustment=True)
    make_rule(
        world.org_a,
        name="Throughput",
        metric_name="rpm",
        aggregation="min",
        comparison="below",
        threshold=100,
        wedding_season_adjustment=True,
    )
    add_buckets(world.org_a, NOW_SAT, [450])
    add_buckets(world.org_a, NOW_SAT, [110], metric="rpm")
    evaluate(NOW_SAT)
    got = {a.labels["metric"]: (a.threshold, a.threshold_reason) for a in alerts()}
    assert got == {
        "checkout_ms": (pytest.approx(400), "wedding season: 20% stricter"),
        "rpm": (pytest.approx(120), "wedding season: 20% stricter"),
    }


def test_wedding_season_adjustment_does_not_apply_in_november_or_on_a_weekday(world):
    make_rule(world.org_a, wedding_season_adjustment=True)
    november_saturday = dt.datetime(2026, 11, 14, 12, 0, 30, tzinfo=dt.UTC)
    add_buckets(world.org_a, november_saturday, [450])
    add_buckets(world.org_a, NOW_WED, [450])
    for now in (november_saturday, NOW_WED):
        (row,) = rows(now)
        assert (row.threshold, row.threshold_reason, row.breaching) == (500, "standard threshold", False)


def test_platform_wide_rule_applies_to_every_organization(world):
    rule = make_rule(None, name="Platform checkout latency")
    add_buckets(world.org_a, NOW_WED, [812])
    add_buckets(world.org_b, NOW_WED, [700])
    assert evaluate(NOW_WED)["fired"] == 2
    got = [(a.organization.slug, a.labels["organization"], a.rule_id, a.value) for a in alerts()]
    assert got == [
        ("bloom-and-vine", "bloom-and-vine", rule.id, 700),
        ("rosewood-florals", "rosewood-florals", rule.id, 812),
    ]
    with service_context():
        assert alerts()[0].fingerprint == labels_fingerprint(
            rule_alert_labels(rule=rule, organization_slug="bloom-and-vine", service=SERVICE)
        )


# --- outsiders ---------------------------------------------------------------------------


def test_an_organizations_rule_does_not_see_another_organizations_metrics(world):
    make_rule(world.org_b)
    add_buckets(world.org_a, NOW_WED, [812])
    assert evaluate(NOW_WED) == {"evaluated": 0, "breaching": 0, "pending": 0, "fired": 0, "resolved": 0, "errors": 0}


def test_vendor_of_another_organization_sees_none_of_the_rules_alerts_or_evaluations(world):
    make_rule(world.org_a)
    make_rule(None, name="Platform rule")
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    with vendor_context(world.org_b.id):
        assert AlertRule.objects.count() == 0 and AlertHistory.objects.count() == 0
        assert rule_evaluation_rows(now=NOW_WED) == []
        with connection.cursor() as cur:
            for query in (
                "SELECT count(*) FROM alert_configurations",
                "SELECT count(*) FROM apm_alerts",
                "SELECT count(*) FROM alert_history",
            ):
                cur.execute(query)
                assert cur.fetchone() == (0,), query
    with vendor_context(world.org_a.id):
        # Its own rule and both of its alerts; the platform rule stays staff-only.
        assert list(AlertRule.objects.values_list("name", flat=True)) == ["Checkout latency"]
        assert AlertHistory.objects.count() == 2
