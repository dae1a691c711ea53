"""Rule types beside threshold: for-duration (shorter on wedding days), heartbeat, anomaly, composite, pattern_match."""

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
            organization=org,
            service=service,
            metric_name=metric,
            bucket_seconds=3600,
            bucket_start=start,
            count=100,
            sum=avg * 100,
            min=avg,
            max=avg,
            avg=avg,
            p50=avg,
            p95=avg,
            p99=avg,
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
            organization=world.org_a,
            name="Checkout broken",
            alert_type="composite",
            metric_name="",
            threshold=0,
            composite_operator="and",
            composite_rule_ids=[str(latency.id), str(errors.id)],
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
            organization=None,
            name="Anything wrong",
            alert_type="composite",
            metric_name="",
            threshold=0,
            composite_operator="or",
            composite_rule_ids=[str(latency.id)],
        )
    add_buckets(world.org_a, NOW_WED, [812])
    evaluate(NOW_WED)
    evaluate(NOW_WED)
    open_titles = sorted(a.title for a in alerts() if a.status == "firing")
    assert any(t.startswith("Anything wrong") for t in open_titles)
    evaluate(NOW_WED + 30 * MINUTE)  # the latency data is gone: latency resolves
    evaluate(NOW_WED + 31 * MINUTE)  # then the composite
    assert all(a.status == "resolved" for a in alerts())


# --- pattern_match -----------------------------------------------------------------------------


def add_errors(org, message, at_list, *, service="payments"):
    """Error reports of ``org`` with ``message`` at each time (one pattern row for all)."""
    from apm.models import ErrorPattern, ErrorReport

    with service_context():
        pattern = ErrorPattern.objects.create(
            organization=org,
            fingerprint=f"{abs(hash((org.pk, message))):016x}"[:16],
            service=service,
            error_type="Error",
            normalized_message=message,
            first_seen=at_list[0],
            last_seen=at_list[-1],
        )
        for at in at_list:
            ErrorReport.objects.create(
                organization=org, pattern=pattern, service=service, error_type="Error", message=message, occurred_at=at
            )


def test_pattern_match_fires_at_the_threshold_of_matching_errors_in_the_window(world):
    from alerts.rules import alert_rule_create

    with service_context():
        alert_rule_create(
            organization_id=world.org_a.id,
            name="Payment timeouts",
            alert_type="pattern_match",
            pattern="(stripe|payment).*timed? ?out",
            threshold=3,
            window_minutes=10,
            service="",
            for_seconds=0,
        )
    window_end = NOW_WED.replace(second=0)
    add_errors(world.org_a, "Stripe request TIMED OUT after 30 s", [window_end - m * MINUTE for m in (1, 2)])
    add_errors(world.org_a, "KeyError: 'couple'", [window_end - m * MINUTE for m in (1, 2, 3, 4)])
    add_errors(world.org_b, "payment timeout", [window_end - m * MINUTE for m in (1, 2, 3)])  # not org A's rule
    assert evaluate(NOW_WED)["fired"] == 0  # 2 matches < 3
    add_errors(world.org_a, "Payment gateway timeout", [window_end - 5 * MINUTE, window_end - 30 * MINUTE])
    result = evaluate(NOW_WED)
    assert result["fired"] == 1  # 3 in the window; the one 30 minutes ago is outside it
    (alert,) = alerts()
    assert alert.organization_id == world.org_a.id and alert.value == 3 and alert.threshold == 3
    assert "Payment timeouts" in alert.title
    with vendor_context(world.org_b.id):
        from alerts.models import AlertHistory

        assert AlertHistory.objects.count() == 0
    assert evaluate(NOW_WED + 20 * MINUTE)["resolved"] == 1  # the window moved past them


def test_pattern_match_uses_the_wedding_day_threshold(world):
    make_rule(
        world.org_a,
        alert_type="pattern_match",
        pattern="timeout",
        metric_name="error_reports",
        threshold=5,
        wedding_day_threshold=1,
        window_minutes=10,
    )
    add_errors(world.org_a, "upstream timeout", [NOW_SAT.replace(second=0) - MINUTE])
    assert evaluate(NOW_SAT)["fired"] == 1
    assert alerts()[0].threshold_reason.startswith("wedding day: local Saturday")
