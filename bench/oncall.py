"""Benchmark: ``oncall_at`` for 1,000 schedules × 10,000 instants, beside a naive per-minute expansion.

In memory (``oncall_at`` is pure: no database). The schedules are random but seeded: 1-4 layers in
eight time zones, daily to fortnightly handoffs, weekday and hour windows (some wrapping midnight),
wedding-day layers driven by a second zone's Saturdays and by explicit wedding days, overrides.
The instants are whole minutes spread over 1 October - 5 November 2026, across the DST changes
of Sydney, Auckland, London, New York and Sao Paulo's neighbours.

The baseline is ``oncall.naive.expand``: walk the clock one minute at a time from the first layer's
start to the last instant, then look each instant up. It is measured on ``--naive-schedules``
schedules (it takes about a second each) and scaled to all of them; its answers are compared with
``oncall_at``'s on those schedules (the mismatch count must be 0).

    .venv/bin/python bench/oncall.py [--schedules 1000] [--instants 10000] [--naive-schedules 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._scratch import log  # noqa: E402
from oncall.naive import expand  # noqa: E402
from oncall.schedule import OverrideSpec, RotationSpec, ScheduleSpec, oncall_at  # noqa: E402

ZONES = [
    "Europe/London",
    "Australia/Sydney",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "America/Los_Angeles",
]
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 5, tzinfo=dt.UTC)


def random_schedule(rng: random.Random, index: int) -> ScheduleSpec:
    """One seeded random schedule (see the module docstring)."""
    rotations = []
    for i in range(rng.randint(1, 4)):
        window = None
        if rng.random() < 0.5:
            window = (dt.time(rng.choice([0, 6, 8, 9, 18, 20, 22])), dt.time(rng.choice([2, 6, 8, 17, 18, 20])))
        days = frozenset(rng.sample(range(1, 8), rng.randint(2, 7))) if rng.random() < 0.5 else frozenset()
        rotations.append(
            RotationSpec(
                id=f"{index}.{i}",
                name=f"layer {i}",
                position=i,
                participants=tuple(range(1, rng.randint(2, 7))),
                starts_on=(START - dt.timedelta(days=rng.randint(0, 28))).date(),
                handoff=dt.time(rng.choice([0, 8, 9, 12, 20]), rng.choice([0, 30])),
                period_days=rng.choice([1, 2, 7, 7, 14]),
                days=days,
                window=window,
                wedding_day_only=rng.random() < 0.25,
            )
        )
    overrides = []
    for _ in range(rng.randint(0, 3)):
        begin = START + dt.timedelta(minutes=rng.randint(0, int((END - START).total_seconds() // 60)))
        overrides.append(OverrideSpec(start=begin, end=begin + dt.timedelta(hours=rng.randint(1, 48)), person=99))
    windows = []
    for _ in range(rng.randint(0, 2)):
        day = START + dt.timedelta(days=rng.randint(0, 34))
        windows.append((day, day + dt.timedelta(days=1)))
    return ScheduleSpec(
        id=index,
        name=f"schedule {index}",
        timezone=rng.choice(ZONES),
        rotations=tuple(rotations),
        overrides=tuple(overrides),
        wedding_day_zones=(rng.choice(ZONES),),
        wedding_day_windows=tuple(windows),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--instants", type=int, default=10_000)
    parser.add_argument("--naive-schedules", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.schedules < 1 or args.instants < 1 or not 1 <= args.naive_schedules <= args.schedules:
        parser.error("--schedules and --instants must be positive, --naive-schedules between 1 and --schedules")
    rng = random.Random(args.seed)
    specs = [random_schedule(rng, i) for i in range(args.schedules)]
    minutes = int((END - START).total_seconds() // 60)
    instants = [START + dt.timedelta(minutes=rng.randrange(minutes)) for _ in range(args.instants)]
    layers = sum(len(s.rotations) for s in specs)
    log(
        f"{args.schedules} schedules ({layers} layers), {args.instants} instants "
        f"{START:%Y-%m-%d}..{END:%Y-%m-%d}: {args.schedules * args.instants:,} oncall_at calls"
    )

    started = time.perf_counter()
    gaps = 0
    step = max(args.schedules // 10, 1)
    for n, spec in enumerate(specs, start=1):
        for t in instants:
            if oncall_at(spec, t) is None:
                gaps += 1
        if n % step == 0:
            log(f"oncall_at: {n}/{args.schedules} schedules, {time.perf_counter() - started:.1f} s")
    fast = time.perf_counter() - started
    calls = args.schedules * args.instants

    log(f"naive per-minute expansion on {args.naive_schedules} schedules (then scaled)")
    mismatches = 0
    naive_started = time.perf_counter()
    for spec in specs[: args.naive_schedules]:
        table = expand(spec, START, END)
        for t in instants:
            expected = table[t]
            got = oncall_at(spec, t)
            if (got.person if got else None) != expected:
                mismatches += 1
    naive = time.perf_counter() - naive_started
    # the comparison above calls oncall_at once more per instant; take that share out of the naive time
    check_started = time.perf_counter()
    for spec in specs[: args.naive_schedules]:
        for t in instants:
            oncall_at(spec, t)
    naive -= time.perf_counter() - check_started
    naive_total = naive / args.naive_schedules * args.schedules

    print()
    print(
        f"oncall_at            {fast:8.2f} s   {fast / calls * 1e6:6.2f} µs/call   {calls / fast:12,.0f} calls/s"
        f"   ({gaps / calls:.1%} of answers are gaps)"
    )
    print(
        f"naive per-minute     {naive_total:8.2f} s   (measured {naive:.2f} s on {args.naive_schedules} schedules,"
        f" {naive / args.naive_schedules:.2f} s each, scaled to {args.schedules})"
    )
    print(f"ratio                {naive_total / fast:8.1f} × faster   mismatches with the naive: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
