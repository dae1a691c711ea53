"""``oncall_at``: who is on call, table-tested across time zones and DST weekends, and checked minute by
minute against an independent naive expansion (``oncall.naive``). Pure: no database."""

import datetime as dt
import random
import zoneinfo

import pytest

from oncall.naive import expand
from oncall.schedule import OverrideSpec, RotationSpec, ScheduleSpec, localize, oncall_at, shifts_between
from oncall.schedule import wall_envelope as envelope

UTC = dt.UTC
A, B, C, D = 1, 2, 3, 4
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def layer(
    name="primary",
    position=1,
    people=(A, B, C),
    starts_on=dt.date(2026, 3, 23),
    handoff=dt.time(9),
    period_days=7,
    **kw,
) -> RotationSpec:
    return RotationSpec(
        id=name,
        name=name,
        position=position,
        participants=tuple(people),
        starts_on=starts_on,
        handoff=handoff,
        period_days=period_days,
        **kw,
    )


def schedule(tz, *rotations, overrides=(), zones=(), windows=()) -> ScheduleSpec:
    return ScheduleSpec(
        id="s",
        name="s",
        timezone=tz,
        rotations=rotations,
        overrides=overrides,
        wedding_day_zones=zones,
        wedding_day_windows=windows,
    )


def who(spec, instant):
    answer = oncall_at(spec, instant)
    return answer.person if answer else None


LONDON_WEEKLY = schedule("Europe/London", layer())  # Monday 09:00 handoffs from 23 March 2026
SYDNEY_DAILY = schedule("Australia/Sydney", layer(people=(A, B), starts_on=dt.date(2026, 9, 28), period_days=1))
NY_0130 = schedule(
    "America/New_York", layer(people=(A, B), starts_on=dt.date(2026, 10, 25), handoff=dt.time(1, 30), period_days=1)
)
LONDON_0130 = schedule(
    "Europe/London", layer(people=(A, B), starts_on=dt.date(2026, 3, 20), handoff=dt.time(1, 30), period_days=1)
)
NIGHTS = schedule(
    "Europe/London",
    layer(people=(A,), starts_on=dt.date(2026, 1, 5), period_days=7, days=WEEKDAYS, window=(dt.time(20), dt.time(8))),
)
KOLKATA = schedule(
    "Asia/Kolkata", layer(people=(A, B, C), starts_on=dt.date(2026, 1, 1), handoff=dt.time(10), period_days=2)
)
AUCKLAND = schedule(
    "Pacific/Auckland", layer(people=(A, B), starts_on=dt.date(2026, 9, 21), handoff=dt.time(8), period_days=1)
)
WEDDING = schedule(
    "Europe/London",
    layer("weekdays", 1, people=(A, B), starts_on=dt.date(2026, 6, 1), days=WEEKDAYS),
    layer("saturday rota", 5, people=(C, D), starts_on=dt.date(2026, 6, 6), handoff=dt.time(0), wedding_day_only=True),
    zones=("Australia/Sydney",),
    windows=(
        (
            localize(dt.datetime(2026, 6, 10), zoneinfo.ZoneInfo("Europe/London")),
            localize(dt.datetime(2026, 6, 11), zoneinfo.ZoneInfo("Europe/London")),
        ),
    ),
)

CASES = [
    # (schedule, instant, expected, why)
    (LONDON_WEEKLY, at(2026, 3, 23, 8, 59), None, "before the first handoff (09:00 GMT = 09:00 UTC)"),
    (LONDON_WEEKLY, at(2026, 3, 23, 9, 0), A, "first handoff, GMT"),
    (LONDON_WEEKLY, at(2026, 3, 30, 7, 59), A, "08:59 BST on the Monday after the spring-forward weekend"),
    (LONDON_WEEKLY, at(2026, 3, 30, 8, 0), B, "09:00 BST is 08:00 UTC: the handoff stays 09:00 local"),
    (LONDON_WEEKLY, at(2026, 4, 13, 8, 0), A, "three people: round again in week four"),
    (LONDON_WEEKLY, at(2026, 10, 26, 8, 59), A, "after the fall-back weekend: 08:59 GMT"),
    (LONDON_WEEKLY, at(2026, 10, 26, 9, 0), B, "09:00 GMT = 09:00 UTC again"),
    (SYDNEY_DAILY, at(2026, 10, 2, 22, 59), A, "Sat 3 Oct 08:59 AEST (UTC+10)"),
    (SYDNEY_DAILY, at(2026, 10, 2, 23, 0), B, "Sat 3 Oct 09:00 AEST"),
    (SYDNEY_DAILY, at(2026, 10, 3, 21, 59), B, "Sun 4 Oct 08:59 AEDT: the spring-forward day is 23 h long"),
    (SYDNEY_DAILY, at(2026, 10, 3, 22, 0), A, "Sun 4 Oct 09:00 AEDT (UTC+11)"),
    (NY_0130, at(2026, 11, 1, 5, 29), A, "01:29 EDT on the fall-back night"),
    (NY_0130, at(2026, 11, 1, 5, 30), B, "01:30 EDT: the first 01:30 hands off"),
    (NY_0130, at(2026, 11, 1, 6, 30), B, "01:30 EST, the repeated hour: no second handoff"),
    (NY_0130, at(2026, 11, 2, 6, 30), A, "next day 01:30 EST = 06:30 UTC"),
    (LONDON_0130, at(2026, 3, 29, 0, 59), A, "00:59 GMT, before the jump"),
    (LONDON_0130, at(2026, 3, 29, 1, 0), B, "01:30 does not exist that night: it hands off when the clock jumps"),
    (LONDON_0130, at(2026, 3, 30, 0, 30), A, "next day 01:30 BST = 00:30 UTC"),
    (NIGHTS, at(2026, 6, 12, 19, 30), A, "Friday 20:30 BST: the Friday night window"),
    (NIGHTS, at(2026, 6, 13, 6, 59), A, "Saturday 07:59 BST still belongs to Friday's night"),
    (NIGHTS, at(2026, 6, 13, 7, 0), None, "Saturday 08:00 BST: Friday's night is over"),
    (NIGHTS, at(2026, 6, 13, 20, 0), None, "Saturday night: not a working day"),
    (NIGHTS, at(2026, 6, 15, 6, 0), None, "Monday 07:00 belongs to Sunday's night: off"),
    (NIGHTS, at(2026, 6, 15, 12, 0), None, "Monday midday: outside the window"),
    (KOLKATA, at(2026, 1, 3, 4, 29), A, "IST has no DST: 09:59 IST, day 3 of a 2-day period"),
    (KOLKATA, at(2026, 1, 3, 4, 30), B, "10:00 IST"),
    (AUCKLAND, at(2026, 9, 25, 20, 0), B, "Sat 26 Sep 08:00 NZST (UTC+12)"),
    (AUCKLAND, at(2026, 9, 26, 18, 59), B, "Sun 27 Sep 07:59 NZDT: DST began at 02:00"),
    (AUCKLAND, at(2026, 9, 26, 19, 0), A, "Sun 27 Sep 08:00 NZDT (UTC+13): 23 h after the last handoff"),
    (WEDDING, at(2026, 6, 12, 13, 0), B, "Friday 14:00 BST: the weekday layer (Sydney still Friday 23:00)"),
    (WEDDING, at(2026, 6, 12, 14, 0), C, "Friday 15:00 BST is Saturday 00:00 in Sydney: the wedding-day layer"),
    (WEDDING, at(2026, 6, 13, 12, 0), D, "Saturday in London: the wedding-day rota's next week"),
    (WEDDING, at(2026, 6, 13, 23, 0), None, "Sunday 00:00 BST: no layer (weekdays only, not a wedding day)"),
    (WEDDING, at(2026, 6, 10, 12, 0), C, "Wednesday with a wedding (a wedding-day window): the wedding-day layer"),
    (WEDDING, at(2026, 6, 11, 12, 0), B, "Thursday: the weekday layer again"),
    (WEDDING, at(2026, 6, 20, 12, 0), C, "two people: round again the Saturday after"),
]


@pytest.mark.parametrize(("spec", "instant", "expected", "why"), CASES, ids=[c[3] for c in CASES])
def test_who_is_on_call(spec, instant, expected, why):
    assert who(spec, instant) == expected, why


def test_the_highest_layer_wins_and_an_override_beats_every_layer_the_newest_first():
    base = layer("base", 1, people=(A,), period_days=1)
    top = layer("top", 2, people=(B,), period_days=1, window=(dt.time(12), dt.time(13)))
    overrides = (
        OverrideSpec(start=at(2026, 5, 4, 12, 30), end=at(2026, 5, 4, 15), person=C, id="o1"),
        OverrideSpec(start=at(2026, 5, 4, 14), end=at(2026, 5, 4, 16), person=D, id="o2"),
    )
    spec = schedule("UTC", base, top, overrides=overrides)
    assert [who(spec, at(2026, 5, 4, h, m)) for h, m in ((11, 59), (12, 0), (12, 30), (14, 0), (15, 59), (16, 0))] == [
        A,
        B,
        C,
        D,
        D,
        A,
    ]
    assert oncall_at(spec, at(2026, 5, 4, 14)).source == "override"
    assert oncall_at(spec, at(2026, 5, 4, 12)).source == "top"


def test_a_layer_ends_after_its_last_day_and_naive_instants_are_refused():
    spec = schedule("Europe/London", layer(people=(A,), period_days=1, ends_on=dt.date(2026, 4, 1)))
    assert who(spec, at(2026, 4, 1, 22, 59)) == A and who(spec, at(2026, 4, 1, 23, 0)) is None  # midnight BST
    with pytest.raises(ValueError, match="aware"):
        oncall_at(spec, dt.datetime(2026, 4, 1, 12))


def test_the_wall_clock_envelope_does_not_go_back_in_the_repeated_hour():
    import zoneinfo

    ny = zoneinfo.ZoneInfo("America/New_York")
    assert envelope(at(2026, 11, 1, 5, 59), ny) == dt.datetime(2026, 11, 1, 1, 59)
    second_pass = envelope(at(2026, 11, 1, 6, 15), ny)  # 01:15 EST, the clock already showed 01:59 EDT
    assert dt.datetime(2026, 11, 1, 1, 59, 59) < second_pass < dt.datetime(2026, 11, 1, 2, 0)
    assert envelope(at(2026, 11, 1, 7, 0), ny) == dt.datetime(2026, 11, 1, 2, 0)


def test_shifts_cover_the_range_with_gaps_marked_and_merge_the_same_person():
    shifts = shifts_between(NIGHTS, at(2026, 6, 12, 12), at(2026, 6, 15, 12))
    assert all(a.end == b.start for a, b in zip(shifts, shifts[1:], strict=False))
    assert [(s.start, s.end, s.person) for s in shifts] == [
        (at(2026, 6, 12, 12), at(2026, 6, 12, 19), None),
        (at(2026, 6, 12, 19), at(2026, 6, 13, 7), A),  # Friday 20:00 to Saturday 08:00 BST
        (at(2026, 6, 13, 7), at(2026, 6, 15, 12), None),  # the weekend: a gap
    ]
    assert shifts[2].is_gap and shifts[2].hours == pytest.approx(53.0)
    # Daily handoffs between the same people merge only when the person is the same.
    daily = shifts_between(SYDNEY_DAILY, at(2026, 10, 2, 12), at(2026, 10, 4, 12))
    assert [s.person for s in daily] == [A, B, A]
    assert daily[1].hours == pytest.approx(23.0)  # the spring-forward day


ZONES = [
    "Europe/London",
    "Australia/Sydney",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "UTC",
    "Asia/Tokyo",
]
DST_WEEKENDS = [
    at(2026, 3, 27),
    at(2026, 10, 23),
    at(2026, 3, 6),
    at(2026, 10, 30),
    at(2026, 4, 3),
    at(2026, 10, 2),
    at(2026, 9, 25),
]


def _random_schedule(rng: random.Random, start: dt.datetime) -> ScheduleSpec:
    rotations = []
    for i in range(rng.randint(1, 3)):
        window = None
        if rng.random() < 0.5:
            window = (
                dt.time(rng.choice([0, 1, 2, 8, 9, 20, 23]), rng.choice([0, 30])),
                dt.time(rng.choice([0, 1, 2, 3, 8, 17, 20]), rng.choice([0, 30])),
            )
        days = frozenset(rng.sample(range(1, 8), rng.randint(1, 7))) if rng.random() < 0.5 else frozenset()
        rotations.append(
            layer(
                f"L{i}",
                i,
                people=tuple(range(1, rng.randint(2, 5))),
                starts_on=(start - dt.timedelta(days=rng.randint(0, 20))).date(),
                handoff=dt.time(rng.choice([0, 1, 2, 9, 23]), rng.choice([0, 30])),
                period_days=rng.choice([1, 1, 2, 7, 14]),
                days=days,
                window=window,
                wedding_day_only=rng.random() < 0.3,
            )
        )
    overrides = []
    if rng.random() < 0.5:
        begin = start + dt.timedelta(minutes=rng.randint(0, 4000))
        overrides.append(OverrideSpec(start=begin, end=begin + dt.timedelta(minutes=rng.randint(1, 600)), person=99))
    return schedule(rng.choice(ZONES), *rotations, overrides=tuple(overrides), zones=(rng.choice(ZONES),))


@pytest.mark.parametrize("seed", range(12))
def test_oncall_at_and_shifts_agree_with_a_naive_minute_by_minute_expansion_over_dst_weekends(seed):
    rng = random.Random(seed)
    start = DST_WEEKENDS[seed % len(DST_WEEKENDS)]
    end = start + dt.timedelta(days=3)
    for _ in range(3):
        spec = _random_schedule(rng, start)
        reference = expand(spec, start, end)
        got = {t: who(spec, t) for t in reference}
        assert got == reference, spec
        for shift in shifts_between(spec, start, end):
            t = shift.start.replace(second=0, microsecond=0)
            while t < shift.end:
                if t >= shift.start:
                    assert reference[t] == shift.person, (spec, shift, t)
                t += dt.timedelta(minutes=1)
