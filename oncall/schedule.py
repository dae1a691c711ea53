"""Who is on call: a pure function of a schedule's definition and an instant (no query, no clock).

A schedule (``ScheduleSpec``) has a time zone and layers (``RotationSpec``, lowest ``position``
first); where several layers have someone on call the highest layer wins, and an override
(``OverrideSpec``) beats every layer. A layer hands off from one participant to the next every
``period_days`` days at its local ``handoff`` time, starting ``starts_on``; it may be restricted to
weekdays (``days``, ISO 1 = Monday … 7 = Sunday) and to a daily window (``window``: local
``(from, until)``, which may wrap midnight: a window belongs to the day it starts on). A
wedding-day layer (``wedding_day_only``) applies only while the wedding-day protocol is on: on a
local Saturday of any of ``wedding_day_zones`` (the schedule's own zone and those of the
organizations in scope), or inside one of ``wedding_day_windows`` (UTC intervals of the weddings
of the organizations in scope; ``oncall.selectors.schedule_spec`` loads them).

Wall-clock semantics across DST (the reason a 09:00 handoff stays 09:00 local): every local time
X (a handoff, a window edge, a local midnight) takes effect at the *first instant at which the
local clock reads X or later*. In the spring-forward gap a 02:30 handoff happens when the clock
jumps past it (03:00 in Europe/London); in the fall-back hour it happens on the first pass, and
the repeated hour changes nothing. So the state at an instant is a function of the *wall-clock
envelope* — the latest local reading seen so far — which equals the local reading except during
a repeated hour (``wall_envelope``). Handoff counting is done in wall-clock days, so a daily 09:00
handoff is 09:00 on both sides of a DST change (24 h apart on ordinary days, 23 or 25 h across one).

``oncall_at`` costs one time-zone conversion per zone it needs plus a few integer operations per
layer and a binary search over overrides; ``shifts_between`` walks only the instants where
something can change. ``oncall.naive`` is an independent minute-by-minute expansion of the same
rules, used by the tests as an oracle and by ``bench/oncall.py`` as the baseline.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

UTC = dt.UTC
_EPS = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class RotationSpec:
    """One layer. ``participants``: user ids in order; ``period_days``: days between handoffs (7 × weeks).

    ``days``: ISO weekdays the layer works (empty: every day); ``window``: ``(from, until)`` local
    times or None (all day); ``ends_on``: the last local day (inclusive) or None.
    """

    id: object
    name: str
    position: int
    participants: tuple[int, ...]
    starts_on: dt.date
    handoff: dt.time
    period_days: int
    days: frozenset[int] = frozenset()
    window: tuple[dt.time, dt.time] | None = None
    wedding_day_only: bool = False
    ends_on: dt.date | None = None

    @property
    def epoch(self) -> dt.datetime:
        """The first handoff as a naive local wall-clock time."""
        return dt.datetime.combine(self.starts_on, self.handoff)


@dataclass(frozen=True)
class OverrideSpec:
    """``person`` (user id) is on call from ``start`` to ``end`` (aware instants, end exclusive)."""

    start: dt.datetime
    end: dt.datetime
    person: int
    id: object = None


@dataclass(frozen=True)
class OnCall:
    """The answer of ``oncall_at``: ``person`` (user id) and where it comes from.

    ``source``: ``"override"`` or the layer's name; ``rotation_id``/``override_id`` identify it.
    """

    person: int
    source: str
    rotation_id: object = None
    override_id: object = None


@dataclass(frozen=True)
class Shift:
    """A stretch of time with one answer: ``person`` None is a gap (nobody on call)."""

    start: dt.datetime
    end: dt.datetime
    person: int | None
    source: str = ""

    @property
    def is_gap(self) -> bool:
        return self.person is None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule's definition as plain data (``oncall.selectors.schedule_spec`` builds it from the tables).

    ``timezone``: IANA name; ``rotations`` in any order (sorted on construction, lowest position
    first); ``overrides`` in any order (where two overlap, the later in the tuple wins);
    ``wedding_day_zones``: zones whose local Saturdays turn wedding-day layers on (the schedule's
    own zone is always added); ``wedding_day_windows``: UTC ``(start, end)`` intervals of wedding
    days, valid within the range they were loaded for.
    """

    id: object
    name: str
    timezone: str
    rotations: tuple[RotationSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()
    wedding_day_zones: tuple[str, ...] = ()
    wedding_day_windows: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    _tz: zoneinfo.ZoneInfo = field(init=False, repr=False, compare=False)
    _layers: tuple = field(init=False, repr=False, compare=False)
    _zones: tuple[zoneinfo.ZoneInfo, ...] = field(init=False, repr=False, compare=False)
    _override_starts: list = field(init=False, repr=False, compare=False)
    _override_segments: list = field(init=False, repr=False, compare=False)
    _override_answers: list = field(init=False, repr=False, compare=False)
    _wd_starts: list = field(init=False, repr=False, compare=False)
    _wd_windows: list = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        tz = zoneinfo.ZoneInfo(self.timezone)
        set_ = object.__setattr__
        set_(self, "_tz", tz)
        # Highest layer first: the first layer with someone on call wins.
        ordered = sorted(self.rotations, key=lambda r: (-r.position, str(r.id)))
        set_(self, "_layers", tuple(_Layer(r) for r in ordered))
        names = dict.fromkeys([self.timezone, *self.wedding_day_zones])
        set_(self, "_zones", tuple(tz if name == self.timezone else zoneinfo.ZoneInfo(name) for name in names))
        segments = _flatten_overrides(self.overrides)
        set_(self, "_override_segments", segments)
        set_(self, "_override_starts", [s[0] for s in segments])
        set_(
            self,
            "_override_answers",
            [OnCall(person=o.person, source="override", override_id=o.id) for _a, _b, o in segments],
        )
        windows = _merge(sorted((a.astimezone(UTC), b.astimezone(UTC)) for a, b in self.wedding_day_windows))
        set_(self, "_wd_windows", windows)
        set_(self, "_wd_starts", [w[0] for w in windows])

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self._tz

    @property
    def has_wedding_day_layers(self) -> bool:
        return any(r.wedding_day_only for r in self.rotations)


def _merge(intervals: list) -> list:
    out: list = []
    for start, end in intervals:
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _flatten_overrides(overrides) -> list:
    """Non-overlapping ``(start, end, OverrideSpec)`` segments, sorted; later overrides win where they overlap."""
    points = sorted({o.start.astimezone(UTC) for o in overrides} | {o.end.astimezone(UTC) for o in overrides})
    segments: list = []
    for a, b in zip(points, points[1:], strict=False):
        winner = None
        for o in overrides:  # the last one covering [a, b) wins
            if o.start <= a and b <= o.end:
                winner = o
        if winner is None:
            continue
        if segments and segments[-1][2] is winner and segments[-1][1] == a:
            segments[-1] = (segments[-1][0], b, winner)
        else:
            segments.append((a, b, winner))
    return segments


# --- wall-clock arithmetic ----------------------------------------------------------------------


def wall_envelope(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The latest local wall-clock reading (naive) seen up to ``instant``: the local time, except in a
    repeated (fall-back) hour, where it stays just below the reading at which the clocks went back."""
    local = instant.astimezone(tz)
    if not local.fold:
        return local.replace(tzinfo=None)
    # Second pass of a repeated hour: find the transition (within the last few hours) by bisection.
    gap = local.replace(fold=0).utcoffset() - local.utcoffset()
    lo, hi = instant - gap - dt.timedelta(seconds=1), instant
    while hi - lo > dt.timedelta(milliseconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).fold:
            hi = mid
        else:
            lo = mid
    return lo.astimezone(tz).replace(tzinfo=None)


def localize(wall: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant (aware, UTC) at which the local clock of ``tz`` reads ``wall`` or later.

    An existing time: its (first) occurrence; a time in a spring-forward gap: the transition instant.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)
    # Nonexistent: fold=1 maps before the transition, fold=0 after it; bisect to the jump.
    lo, hi = wall.replace(tzinfo=tz, fold=1).astimezone(UTC), first.astimezone(UTC)
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    whole = hi.replace(microsecond=0)  # offsets change on whole seconds
    return whole if whole.astimezone(tz).replace(tzinfo=None) >= wall else hi


_DAY_S = 86400


def _wall_seconds(wall: dt.datetime) -> int:
    """A naive wall-clock time as whole seconds since 0001-01-01 00:00 (floor)."""
    return wall.toordinal() * _DAY_S + wall.hour * 3600 + wall.minute * 60 + wall.second


def _local_seconds(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> int:
    """``_wall_seconds(wall_envelope(instant, tz))`` without building naive datetimes (the hot path)."""
    local = instant.astimezone(tz)
    if local.fold:
        return _wall_seconds(wall_envelope(instant, tz))
    return local.toordinal() * _DAY_S + local.hour * 3600 + local.minute * 60 + local.second


def _time_s(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class _Layer:
    """A RotationSpec compiled to integers (wall-clock seconds), with its answers built once."""

    __slots__ = ("spec", "epoch", "period", "ends", "win", "days", "answers", "n", "wedding_day_only")

    def __init__(self, r: RotationSpec):
        self.spec = r
        self.epoch = _wall_seconds(r.epoch)
        self.period = r.period_days * _DAY_S
        self.ends = (r.ends_on.toordinal() + 1) * _DAY_S if r.ends_on is not None else None
        self.win = (_time_s(r.window[0]), _time_s(r.window[1])) if r.window is not None else None
        self.days = frozenset(r.days) if r.days else None
        self.answers = tuple(OnCall(person=p, source=r.name, rotation_id=r.id) for p in r.participants)
        self.n = len(self.answers)
        self.wedding_day_only = r.wedding_day_only

    def at(self, wall: int) -> OnCall | None:
        if not self.n or wall < self.epoch or (self.ends is not None and wall >= self.ends):
            return None
        day, sec = divmod(wall, _DAY_S)
        win = self.win
        if win is not None:
            start, until = win
            if start < until:
                if not start <= sec < until:
                    return None
            elif sec < until:  # wraps midnight (24 h when start == until): the window began yesterday
                day -= 1
            elif sec < start:
                return None
        if self.days is not None and (day - 1) % 7 + 1 not in self.days:
            return None
        return self.answers[((wall - self.epoch) // self.period) % self.n]


def rotation_person(rotation: RotationSpec, wall: dt.datetime) -> int | None:
    """The layer's participant at wall-clock envelope ``wall`` (naive), ignoring the wedding-day condition."""
    answer = _Layer(rotation).at(_wall_seconds(wall))
    return answer.person if answer else None


def wedding_day_at(spec: ScheduleSpec, instant: dt.datetime) -> bool:
    """Whether wedding-day layers apply at ``instant``: a local Saturday in one of the zones, or a wedding day."""
    for zone in spec._zones:
        if (_local_seconds(instant, zone) // _DAY_S - 1) % 7 == 5:
            return True
    i = bisect.bisect_right(spec._wd_starts, instant) - 1
    return i >= 0 and instant < spec._wd_windows[i][1]


def oncall_at(spec: ScheduleSpec, instant: dt.datetime) -> OnCall | None:
    """Who is on call for ``spec`` at ``instant`` (an aware datetime), or None (a gap).

    Order: an override covering the instant; else the highest layer with someone on call (a
    wedding-day layer only while ``wedding_day_at``). Pure: no database, no clock. Raises
    ValueError for a naive ``instant``.
    """
    if instant.tzinfo is None:
        raise ValueError("oncall_at needs an aware instant")
    if spec._override_starts:
        i = bisect.bisect_right(spec._override_starts, instant) - 1
        if i >= 0 and instant < spec._override_segments[i][1]:
            return spec._override_answers[i]
    wall = None
    wedding = None
    for layer in spec._layers:
        if layer.wedding_day_only:
            if wedding is None:
                wedding = wedding_day_at(spec, instant)
            if not wedding:
                continue
        if wall is None:
            wall = _local_seconds(instant, spec._tz)
        answer = layer.at(wall)
        if answer is not None:
            return answer
    return None


# --- shifts over a range ------------------------------------------------------------------------


def _dst_transitions(tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Instants in [start, end) where ``tz``'s UTC offset changes (hourly scan, then bisection)."""
    out = []
    step = dt.timedelta(hours=1)
    t = start
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        nxt = min(t + step, end)
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = t, nxt
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            whole = hi.replace(microsecond=0)  # offsets change on whole seconds
            out.append(whole if whole.astimezone(tz).utcoffset() != prev else hi)
            prev = off
        t = nxt
    return out


def _local_days(tz, start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date() + dt.timedelta(days=1)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def boundaries(spec: ScheduleSpec, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every instant in (start, end) at which ``oncall_at`` may change its answer, sorted."""
    tz = spec._tz
    walls: set[dt.datetime] = set()
    days = _local_days(tz, start, end)
    for r in spec.rotations:
        walls.add(r.epoch)
        if r.ends_on is not None:
            walls.add(dt.datetime.combine(r.ends_on + dt.timedelta(days=1), dt.time()))
        for day in days:
            walls.add(dt.datetime.combine(day, dt.time()))
            walls.add(dt.datetime.combine(day, r.handoff))
            if r.window is not None:
                walls.add(dt.datetime.combine(day, r.window[0]))
                walls.add(dt.datetime.combine(day, r.window[1]))
    points = {localize(w, tz) for w in walls}
    points.update(_dst_transitions(tz, start, end))
    if spec.has_wedding_day_layers:
        for zone in spec._zones:
            points.update(localize(dt.datetime.combine(d, dt.time()), zone) for d in _local_days(zone, start, end))
            points.update(_dst_transitions(zone, start, end))
        for a, b in spec._wd_windows:
            points.update((a, b))
    for a, b, _o in spec._override_segments:
        points.update((a, b))
    return sorted(p for p in points if start < p < end)


def shifts_between(spec: ScheduleSpec, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The answers of ``oncall_at`` over [start, end) as consecutive shifts (gaps included), merged.

    Each shift starts at ``start`` or at a boundary where the answer changed; adjacent stretches
    with the same person from the same source are one shift. ``start``/``end`` aware.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    cuts = [start, *boundaries(spec, start, end), end]
    shifts: list[Shift] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        who = oncall_at(spec, a)
        person, source = (who.person, who.source) if who else (None, "")
        if shifts and shifts[-1].person == person and shifts[-1].source == source:
            shifts[-1] = Shift(shifts[-1].start, b, person, source)
        else:
            shifts.append(Shift(a, b, person, source))
    return shifts


def layer_shifts(spec: ScheduleSpec, rotation: RotationSpec, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The shifts of one layer alone (its wedding-day condition included; no overrides, no other layers)."""
    alone = ScheduleSpec(
        id=spec.id,
        name=spec.name,
        timezone=spec.timezone,
        rotations=(rotation,),
        wedding_day_zones=spec.wedding_day_zones,
        wedding_day_windows=spec.wedding_day_windows,
    )
    return [s for s in shifts_between(alone, start, end)]


def gaps(shifts: list[Shift]) -> list[Shift]:
    """The shifts with nobody on call."""
    return [s for s in shifts if s.is_gap]
