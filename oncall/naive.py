"""A naive minute-by-minute expansion of a schedule: the oracle of the tests and the baseline of ``bench/oncall.py``.

It walks the clock one minute at a time from the earliest layer start, keeps the wall-clock
envelope of each zone as a running maximum of what the local clocks showed, counts handoffs as
they are crossed (one period added at a time) and checks each layer's window by building that
day's window as wall-clock bounds. It shares no arithmetic with ``oncall.schedule`` (which
computes the same answers in closed form), so the two agreeing at every minute of a DST weekend
is evidence for both. Cost: one step per minute since the first layer started, per schedule.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .schedule import ScheduleSpec

MINUTE = dt.timedelta(minutes=1)


def _window_bounds(rotation, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The wall-clock interval of the layer's work on ``day`` (its window, or the whole day)."""
    if rotation.window is None:
        return dt.datetime.combine(day, dt.time()), dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    start, until = rotation.window
    begin = dt.datetime.combine(day, start)
    finish = dt.datetime.combine(day if start < until else day + dt.timedelta(days=1), until)
    return begin, finish


def _works(rotation, wall: dt.datetime) -> bool:
    for day in (wall.date() - dt.timedelta(days=1), wall.date()):
        if rotation.days and day.isoweekday() not in rotation.days:
            continue
        begin, finish = _window_bounds(rotation, day)
        if begin <= wall < finish:
            return True
    return False


def expand(spec: ScheduleSpec, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, int | None]:
    """``{minute: person or None}`` for every whole UTC minute in [start, end), computed by walking from the
    earliest layer start (or ``start``) one minute at a time."""
    tz = zoneinfo.ZoneInfo(spec.timezone)
    zones = [zoneinfo.ZoneInfo(z) for z in dict.fromkeys([spec.timezone, *spec.wedding_day_zones])]
    layers = sorted(spec.rotations, key=lambda r: (-r.position, str(r.id)))
    origin = min([start] + [r.epoch.replace(tzinfo=tz) - dt.timedelta(days=2) for r in layers])
    t = origin.astimezone(dt.UTC).replace(second=0, microsecond=0)
    envelope = {z.key: dt.datetime.min for z in zones}
    count = {id(r): -1 for r in layers}
    next_handoff = {id(r): r.epoch for r in layers}
    out: dict[dt.datetime, int | None] = {}
    while t < end:
        for z in zones:
            reading = t.astimezone(z).replace(tzinfo=None)
            if reading > envelope[z.key]:
                envelope[z.key] = reading
        wall = envelope[tz.key]
        for r in layers:
            while wall >= next_handoff[id(r)]:
                count[id(r)] += 1
                next_handoff[id(r)] += dt.timedelta(days=r.period_days)
        if t >= start:
            out[t] = _answer(spec, layers, zones, envelope, wall, count, t)
        t += MINUTE
    return out


def _answer(spec, layers, zones, envelope, wall, count, t) -> int | None:
    winner = None
    for o in spec.overrides:
        if o.start <= t < o.end:
            winner = o.person
    if winner is not None:
        return winner
    wedding = any(envelope[z.key].isoweekday() == 6 for z in zones) or any(
        a <= t < b for a, b in spec.wedding_day_windows
    )
    for r in layers:
        if r.wedding_day_only and not wedding:
            continue
        if count[id(r)] < 0 or not r.participants:
            continue
        if r.ends_on is not None and wall.date() > r.ends_on:
            continue
        if not _works(r, wall):
            continue
        return r.participants[count[id(r)] % len(r.participants)]
    return None
