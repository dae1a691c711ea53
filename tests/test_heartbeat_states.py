"""Heartbeat check states, clock driven: new → up → late → down → up, periods and cron in two time zones, wedding days.

Time is a parameter (``now=``) of the services; the beat tick is
``checks_evaluate`` (SQL ``heartbeat_checks_evaluate``, set-based).
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from alerts.models import AlertHistory
from heartbeats.models import HeartbeatCheck, HeartbeatFlip
from heartbeats.services import check_create, check_pause, check_update, checks_evaluate, ping_record
from incidents.models import Incident
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Wedding

H, MIN = dt.timedelta(hours=1), dt.timedelta(minutes=1)


def make_check(org, **fields):
    fields.setdefault("name", "Nightly backup")
    fields.setdefault("now", WEDNESDAY - 3 * H)
    with service_context():
        return check_create(organization_id=org.id if org is not None else None, **fields)


def ping(check, at, kind="success", **extra):
    with service_context():
        return ping_record(check=check, kind=kind, now=at, **extra)


def tick(at):
    with service_context():
        return checks_evaluate(now=at)


def state(check):
    with service_context():
        return HeartbeatCheck.objects.get(pk=check.pk)


def open_alert(check):
    with service_context():
        return AlertHistory.objects.filter(fingerprint=f"heartbeat:{check.pk}", status="firing").first()


def flips(check):
    with service_context():
        return list(
            HeartbeatFlip.objects.filter(heartbeat_check=check)
            .order_by("flipped_at", "id")
            .values_list("old_status", "new_status", "reason", "flipped_at")
        )


def test_periodic_check_goes_new_up_late_down_up_and_alerts_only_when_down(world):
    check = make_check(world.org_a, period_s=3600, grace_s=1800)
    assert state(check).status == "new"
    assert tick(WEDNESDAY)["late"] == 0 and state(check).status == "new"  # never pinged: never late

    t1 = WEDNESDAY
    ping(check, t1)
    assert state(check).status == "up" and state(check).next_expected_at == t1 + H
    tick(t1 + 59 * MIN)
    assert state(check).status == "up"

    assert tick(t1 + 61 * MIN) == {"late": 1, "down": 0, "up": 0, "alerts_fired": 0}
    assert state(check).status == "late" and open_alert(check) is None
    tick(t1 + H + 29 * MIN)
    assert state(check).status == "late"

    counts = tick(t1 + H + 31 * MIN)
    assert counts == {"late": 0, "down": 1, "up": 0, "alerts_fired": 1}
    alert = open_alert(check)
    assert state(check).status == "down"
    assert alert.source == "heartbeat" and alert.organization_id == world.org_a.id
    assert alert.title == "Heartbeat down: Nightly backup"
    assert alert.starts_at == t1 + H + 30 * MIN  # when it really went down, not when the tick noticed
    assert alert.labels["alertname"] == "HeartbeatDown" and alert.labels["organization"] == "rosewood-florals"
    assert alert.threshold == 1800 and alert.threshold_reason == "grace 30 min"
    assert tick(t1 + 2 * H)["alerts_fired"] == 0  # down stays down: no second alert

    ping(check, t1 + 3 * H)
    assert state(check).status == "up"
    with service_context():
        assert AlertHistory.objects.get(pk=alert.pk).status == "resolved"
    assert [(o, n, r) for o, n, r, _at in flips(check)] == [
        ("new", "up", "ping"),
        ("up", "late", "late"),
        ("late", "down", "timeout"),
        ("down", "up", "ping"),
    ]
    assert flips(check)[1][3] == t1 + H  # late from the expected time


@pytest.mark.parametrize(
    ("org_attr", "tz", "ping_local", "next_utc"),
    [
        # 02:00 in Sydney (AEST, UTC+10 in June) is 16:00 UTC the day before.
        ("org_b", "Australia/Sydney", dt.datetime(2026, 6, 10, 2, 0, 30), dt.datetime(2026, 6, 10, 16, 0)),
        # 02:00 in New York (EDT, UTC-4) is 06:00 UTC.
        ("org_a", "America/New_York", dt.datetime(2026, 6, 10, 2, 0, 30), dt.datetime(2026, 6, 11, 6, 0)),
    ],
)
def test_cron_check_in_its_time_zone_goes_up_late_down_up(world, org_attr, tz, ping_local, next_utc):
    import zoneinfo

    org = getattr(world, org_attr)
    check = make_check(org, kind="cron", cron="0 2 * * *", timezone=tz, grace_s=3600)
    pinged = ping_local.replace(tzinfo=zoneinfo.ZoneInfo(tz))
    ping(check, pinged)
    expected = next_utc.replace(tzinfo=dt.UTC)
    assert state(check).next_expected_at == expected
    assert state(check).status == "up"
    tick(expected - MIN)
    assert state(check).status == "up"
    tick(expected + MIN)
    assert state(check).status == "late"
    tick(expected + H + MIN)
    assert state(check).status == "down" and open_alert(check) is not None
    ping(check, expected + 2 * H)
    assert state(check).status == "up" and open_alert(check) is None
    assert state(check).next_expected_at == expected + dt.timedelta(days=1)


def test_cron_across_the_spring_forward_gap_expects_the_first_valid_minute(world):
    check = make_check(world.org_a, kind="cron", cron="30 1 * * *", timezone="Europe/London", grace_s=600)
    ping(check, dt.datetime(2026, 3, 28, 1, 30, 5, tzinfo=dt.UTC))  # GMT: 01:30 local
    # 01:30 does not exist on 29 March 2026 in London (01:00 GMT -> 02:00 BST): 02:00 BST = 01:00 UTC.
    assert state(check).next_expected_at == dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)


def test_wedding_day_grace_applies_on_the_organizations_local_saturday(world):
    saturday_check = make_check(
        world.org_a, name="Saturday sync", period_s=3600, grace_s=3600, wedding_day_grace_s=600, now=SATURDAY - 5 * H
    )
    weekday_check = make_check(world.org_a, name="Weekday sync", period_s=3600, grace_s=3600, wedding_day_grace_s=600)
    ping(saturday_check, SATURDAY - 2 * H)
    ping(weekday_check, WEDNESDAY - 2 * H)
    # Eleven minutes past due: down on the Saturday (10 min grace), only late on the Wednesday (60 min).
    tick(WEDNESDAY - H + 11 * MIN)
    assert state(weekday_check).status == "late"
    tick(SATURDAY - H + 11 * MIN)
    assert state(saturday_check).status == "down"
    alert = open_alert(saturday_check)
    assert alert.threshold == 600
    assert alert.threshold_reason == "wedding-day grace 10 min (wedding day: local Saturday 2026-06-13)"
    with service_context():
        assert HeartbeatFlip.objects.get(heartbeat_check=saturday_check, new_status="down").wedding_day is True


def test_wedding_day_grace_defaults_to_half_and_follows_a_weekday_wedding(world):
    check = make_check(world.org_b, period_s=3600, grace_s=3600)  # no wedding_day_grace_s: half, 30 min
    with service_context():
        # A wedding on Bloom & Vine's local Wednesday (Sydney): the protocol is on that day.
        Wedding.objects.create(organization=world.org_b, wedding_date=dt.date(2026, 6, 10), couple_name="Ana & Zoe")
    ping(check, WEDNESDAY - 3 * H)  # 09:00 UTC = 19:00 in Sydney on the wedding day
    tick(WEDNESDAY - 2 * H + 31 * MIN)
    assert state(check).status == "down"
    assert "wedding day: a wedding on 2026-06-10 (local)" in open_alert(check).threshold_reason


def test_platform_check_uses_the_wedding_day_grace_while_any_organization_is_on(world):
    check = make_check(
        None, name="Platform backup", period_s=3600, grace_s=3600, wedding_day_grace_s=300, now=SATURDAY - 5 * H
    )
    ping(check, SATURDAY - 2 * H)
    tick(SATURDAY - H + 6 * MIN)
    assert state(check).status == "down"
    alert = open_alert(check)
    assert alert.organization_id is None and alert.labels["organization"] == ""


def test_fail_ping_and_non_zero_exit_status_are_down_at_once_and_success_resolves(world):
    check = make_check(world.org_a, period_s=3600, grace_s=3600)
    ping(check, WEDNESDAY)
    ping(check, WEDNESDAY + MIN, kind="fail", exit_status=3)
    assert state(check).status == "down" and state(check).last_exit_status == 3
    alert = open_alert(check)
    assert alert is not None and "exit status 3" in alert.annotations["summary"]
    assert flips(check)[-1][2] == "fail"
    ping(check, WEDNESDAY + 2 * MIN, kind="fail")  # still down: the same alert, nothing new
    with service_context():
        assert AlertHistory.objects.filter(fingerprint=f"heartbeat:{check.pk}").count() == 1
    ping(check, WEDNESDAY + 3 * MIN)
    assert state(check).status == "up" and open_alert(check) is None


def test_start_measures_the_run_and_a_run_that_never_ends_goes_down(world):
    import uuid

    check = make_check(world.org_a, period_s=86400, grace_s=600)
    rid = uuid.uuid4()
    ping(check, WEDNESDAY, kind="start", rid=rid)
    assert state(check).status == "new" and state(check).last_start_at == WEDNESDAY
    ping(check, WEDNESDAY + 90 * dt.timedelta(seconds=1), rid=rid)
    assert state(check).status == "up" and state(check).last_duration_ms == 90_000
    assert state(check).last_start_at is None

    ping(check, WEDNESDAY + 2 * H, kind="start")
    tick(WEDNESDAY + 2 * H + 9 * MIN)
    assert state(check).status == "up"  # running within its grace
    tick(WEDNESDAY + 2 * H + 11 * MIN)
    assert state(check).status == "down"
    assert flips(check)[-1][2] == "run_timeout"
    assert "did not end within 10 min" in open_alert(check).annotations["summary"]


def test_a_start_on_a_new_check_that_never_ends_goes_down(world):
    check = make_check(world.org_a, grace_s=600)
    ping(check, WEDNESDAY, kind="start")
    tick(WEDNESDAY + 11 * MIN)
    assert state(check).status == "down"


def test_log_pings_change_nothing_and_pause_resolves_until_the_next_ping(world):
    check = make_check(world.org_a, period_s=3600, grace_s=600)
    ping(check, WEDNESDAY)
    ping(check, WEDNESDAY + MIN, kind="log", body=b"disk 81% full")
    assert state(check).n_pings == 2 and state(check).last_ping_at == WEDNESDAY
    tick(WEDNESDAY + 2 * H)
    assert open_alert(check) is not None
    with service_context():
        check_pause(check=check, now=WEDNESDAY + 2 * H + MIN)
    assert state(check).status == "paused" and open_alert(check) is None
    tick(WEDNESDAY + 30 * H)
    assert state(check).status == "paused"
    ping(check, WEDNESDAY + 31 * H)
    assert state(check).status == "up"


def test_critical_check_down_opens_an_incident_and_a_silence_mutes_it(world):
    from alerts.silences import suppression_rule_create

    critical = make_check(world.org_a, name="Payments export", period_s=3600, grace_s=600, severity="critical")
    muted = make_check(world.org_a, name="Gallery thumbnails", period_s=3600, grace_s=600)
    with service_context():
        suppression_rule_create(
            kind="silence",
            organization_id=world.org_a.id,
            now=WEDNESDAY,
            matchers=[{"name": "check", "op": "=", "value": "Gallery thumbnails"}],
            starts_at=WEDNESDAY,
            ends_at=WEDNESDAY + 5 * H,
        )
    ping(critical, WEDNESDAY)
    ping(muted, WEDNESDAY)
    tick(WEDNESDAY + H + 11 * MIN)
    with service_context():
        alert = AlertHistory.objects.get(fingerprint=f"heartbeat:{critical.pk}")
        assert alert.incident_id is not None
        assert Incident.objects.get(pk=alert.incident_id).status == "open"
        assert AlertHistory.objects.get(fingerprint=f"heartbeat:{muted.pk}").status == "suppressed"


def test_editing_the_schedule_recomputes_the_next_expected_time_and_unlates(world):
    check = make_check(world.org_a, period_s=3600, grace_s=3600)
    ping(check, WEDNESDAY)
    tick(WEDNESDAY + 70 * MIN)
    assert state(check).status == "late"
    with service_context():
        check_update(check=check, now=WEDNESDAY + 71 * MIN, period_s=2 * 3600)
    assert state(check).status == "up" and state(check).next_expected_at == WEDNESDAY + 2 * H
    assert flips(check)[-1][2] == "edited"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "cron", "cron": "61 * * * *"}, "cron"),
        ({"kind": "cron", "cron": "0 2 * *"}, "cron"),
        ({"kind": "cron", "cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"period_s": 30}, "period_s"),
        ({"grace_s": 10}, "grace_s"),
        ({"grace_s": 600, "wedding_day_grace_s": 1200}, "wedding_day_grace_s"),
        ({"name": ""}, "name"),
        ({"severity": "loud"}, "severity"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field_and_nothing_is_written(world, fields, field):
    with pytest.raises(ValidationError) as exc:
        make_check(world.org_a, **fields)
    assert field in exc.value.message_dict
    with service_context():
        assert HeartbeatCheck.objects.count() == 0


def test_the_tick_is_set_based_queries_do_not_grow_with_checks(world, django_assert_max_num_queries):
    checks = [
        make_check(world.org_a if i % 2 else world.org_b, name=f"job {i}", period_s=3600, grace_s=3600)
        for i in range(60)
    ]
    for c in checks:
        ping(c, WEDNESDAY)
    with service_context():
        with django_assert_max_num_queries(3):  # savepoint, the function, release: whatever the number of checks
            counts = checks_evaluate(now=WEDNESDAY + 61 * MIN)
        assert counts["late"] == 60
        with django_assert_max_num_queries(3):
            assert checks_evaluate(now=WEDNESDAY + 62 * MIN) == {"late": 0, "down": 0, "up": 0, "alerts_fired": 0}
