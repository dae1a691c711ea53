"""Rule types beside threshold: for-duration (shorter on wedding days), heartbeat, anomaly, composite."""

import datetime as dt

from alerts.evaluation import for_duration_s
from alerts.models import AlertRule, AlertRulePending
from apm.models import ApmMetricAggregation
from tests.test_rule_evaluation import NOW_SAT, NOW_WED, add_buckets, alerts, evaluate, make_rule, window_end
from wedsync_ops.tenancy.context import service_context, vendor_context

MINUTE = dt.timedelta(minutes=1)


# --- for-duration ----------------------------------------------------------------------------

def test_breach_fires_only_after_lasting_for_seconds(world):
    make_rule(world.org_a, for_seconds=120)
    add_buckets(world.org_a, NOW_WED + 3 * MINUTE, [812] * 8)
    first = evaluate(NOW_WED)
    assert (first["pending"], first["fired"]) == (1, 0)
    assert evaluate(NOW_WED + MINUTE)["fired"] == 0
    assert evaluate(NOW_WED + 2 * MINUTE)["fired"] == 1
    (alert,) = alerts()
    assert alert.starts_at == NOW_WED + 2 * MINUTE
    with service_context():
        assert AlertRulePending.objects.count() == 0


def test_a_breach_that_clears_within_for_seconds_never_fires(world):
    make_rule(world.org_a, for_seconds=120)
    add_buckets(world.org_a, NOW_WED, [812])
    assert evaluate(NOW_WED)["pending"] == 1
    assert evaluate(NOW_WED + 10 * MINUTE)["evaluated"] == 0  # the window has no data: cleared
    with service_context():
        assert AlertRulePending.objects.count() == 0
    add_buckets(world.org_a, NOW_WED + 12 * MINUTE, [812])
    assert evaluate(NOW_WED + 12 * MINUTE)["fired"] == 0  # pending starts over
    assert alerts() == []


def test_wedding_days_shorten_the_for_duration(world):
    rule = make_rule(world.org_a, for_seconds=240)
    assert for_duration_s(rule=rule, wedding_day=False) == 240
    assert for_duration_s(rule=rule, wedding_day=True) == 120
    rule.wedding_day_for_seconds = 60
    assert for_duration_s(rule=rule, wedding_day=True) == 60
    add_buckets(world.org_a, NOW_SAT + 2 * MINUTE, [812] * 8)
    with service_context():
        AlertRule.objects.filter(pk=rule.pk).update(wedding_day_for_seconds=60)
    assert evaluate(NOW_SAT)["fired"] == 0
    assert evaluate(NOW_SAT + MINUTE)["fired"] == 1  # 60 s on a Saturday in London, not 240 s


def test_pending_breaches_are_invisible_to_other_organizations(world):
    make_rule(world.org_a, for_seconds=120)
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    with vendor_context(world.org_b.id):
        assert AlertRulePending.objects.count() == 0
    with vendor_context(world.org_a.id):
        assert AlertRulePending.objects.count() == 1


# --- heartbeat -----------------------------------------------------------------------------

def test_heartbeat_fires_after_n_minutes_without_data_and_resolves_when_data_returns(world):
    make_rule(world.org_a, alert_type="heartbeat", window_minutes=10, name="Payments heartbeat")
    add_buckets(world.org_a, NOW_WED - 15 * MINUTE, [100, 100])  # last bucket ends 15 min before
    rows = evaluate(NOW_WED)
    assert rows["fired"] == 1
    (alert,) = alerts()
    assert alert.value == 15 and alert.threshold == 10 and alert.threshold_reason == "standard threshold"
    add_buckets(world.org_a, NOW_WED + MINUTE, [100])
    assert evaluate(NOW_WED + MINUTE)["resolved"] == 1


def test_heartbeat_within_n_minutes_or_never_seen_does_not_fire(world):
    make_rule(world.org_a, alert_type="heartbeat", window_minutes=10)
    make_rule(world.org_b, alert_type="heartbeat", window_minutes=10, name="bloom heartbeat")  # bloom sent nothing
    add_buckets(world.org_a, NOW_WED - 5 * MINUTE, [100])
    assert evaluate(NOW_WED)["fired"] == 0


def test_heartbeat_uses_the_wedding_day_threshold_in_minutes(world):
    make_rule(world.org_a, alert_type="heartbeat", window_minutes=30, wedding_day_threshold=5)
    add_buckets(world.org_a, NOW_SAT - 6 * MINUTE, [100])
    assert evaluate(NOW_SAT)["fired"] == 1
    assert alerts()[0].threshold_reason.startswith("wedding day: local Saturday")


# --- anomaly -------------------------------------------------------------------------------

def add_hourly(org, at, avg, *, service="payments", metric="checkout_ms"):
    start = at.replace(minute=0, second=0, microsecond=0)
    with service_context():
        ApmMetricAggregation.objects.create(
            organization=org, service=service, metric_name=metric, bucket_seconds=3600, bucket_start=start,
            count=100, sum=avg * 100, min=avg, max=avg, avg=avg, p50=avg, p95=avg, p99=avg,
        )


def test_anomaly_compares_with_the_same_hour_of_past_weeks(world):
    make_rule(world.org_a, alert_type="anomaly", threshold=3, name="Checkout anomaly", window_minutes=5)
    for week, avg in enumerate([200, 210, 190, 200], start=1):
        add_hourly(world.org_a, window_end(NOW_WED) - dt.timedelta(weeks=week), avg)
    add_buckets(world.org_a, NOW_WED, [260] * 5)  # avg 260, far above 200 + 3 × 8.16
    assert evaluate(NOW_WED)["fired"] == 1
    (alert,) = alerts()
    assert alert.value == 260
    assert round(alert.threshold, 1) == round(200 + 3 * 8.1650, 1)
    assert alert.threshold_reason == "baseline 200.000 ± 3.00σ (σ 8.165) over 4 weeks"


def test_anomaly_within_the_band_or_without_two_weeks_of_baseline_does_not_fire(world):
    make_rule(world.org_a, alert_type="anomaly", threshold=3)
    add_hourly(world.org_a, window_end(NOW_WED) - dt.timedelta(weeks=1), 200)
    add_buckets(world.org_a, NOW_WED, [900] * 5)
    assert evaluate(NOW_WED)["evaluated"] == 0  # one week: no baseline
    add_hourly(world.org_a, window_end(NOW_WED) - dt.timedelta(weeks=2), 400)
    assert evaluate(NOW_WED)["fired"] == 1  # mean 300, σ 141: 900 > 724
    make_rule(world.org_b, alert_type="anomaly", threshold=3, name="bloom")
    add_hourly(world.org_b, window_end(NOW_WED) - dt.timedelta(weeks=1), 200)
    add_hourly(world.org_b, window_end(NOW_WED) - dt.timedelta(weeks=2), 400)
    add_buckets(world.org_b, NOW_WED, [500] * 5)
    assert [a.organization_id for a in alerts()] == [world.org_a.id]


# --- composite -----------------------------------------------------------------------------

def test_composite_and_fires_only_when_every_child_rule_has_an_open_alert(world):
    latency = make_rule(world.org_a, name="latency")
    errors = make_rule(world.org_a, name="errors", metric_name="errors", aggregation="count", threshold=10)
    with service_context():
        AlertRule.objects.create(
            organization=world.org_a, name="Checkout broken", alert_type="composite", metric_name="",
            threshold=0, composite_operator="and", composite_rule_ids=[str(latency.id), str(errors.id)],
            severity="critical",
        )
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    assert sorted(a.title.split(":")[0] for a in alerts()) == ["latency"]
    assert evaluate(NOW_WED)["fired"] == 0  # composite sees only latency open: AND not satisfied
    add_buckets(world.org_a, NOW_WED, [1], metric="errors", counts=[50])
    evaluate(NOW_WED)
    evaluate(NOW_WED)
    names = sorted(a.title.split(":")[0] for a in alerts() if a.status != "resolved")
    assert names == ["Checkout broken", "errors", "latency"]


def test_composite_or_fires_with_one_child_and_resolves_with_none(world):
    latency = make_rule(world.org_a, name="latency")
    with service_context():
        AlertRule.objects.create(
            organization=None, name="Anything wrong", alert_type="composite", metric_name="", threshold=0,
            composite_operator="or", composite_rule_ids=[str(latency.id)],
        )
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    evaluate(NOW_WED)
    open_titles = sorted(a.title for a in alerts() if a.status == "firing")
    assert any(t.startswith("Anything wrong") for t in open_titles)
    evaluate(NOW_WED + 30 * MINUTE)  # the latency data is gone: latency resolves
    evaluate(NOW_WED + 31 * MINUTE)  # then the composite
    assert all(a.status == "resolved" for a in alerts())
