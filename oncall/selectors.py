"""Reads of on-call data that pages, feeds and escalation share: schedules as ``ScheduleSpec`` and their shifts.

Every function runs in the caller's tenant context (row-level security decides which schedules,
weddings and people it can see) and takes the instant(s) it answers for; none reads the clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q

from wedsync_ops.tenancy.models import Organization, Wedding

from . import conf
from .models import ContactMethod, Override, PersonalRule, Rotation, Schedule, ScheduleWeddingDayScope
from .schedule import (
    OnCall,
    OverrideSpec,
    RotationSpec,
    ScheduleSpec,
    Shift,
    layer_shifts,
    localize,
    oncall_at,
    shifts_between,
)

User = get_user_model()


def display_name(user) -> str:
    """A person's name for pages and timelines: full name, else username."""
    return (user.get_full_name() or user.get_username()) if user is not None else "nobody"


def people_names(user_ids) -> dict[int, str]:
    """``{user id: display name}`` for ``user_ids`` (one query)."""
    ids = {i for i in user_ids if i is not None}
    return {u.pk: display_name(u) for u in User.objects.filter(pk__in=ids)} if ids else {}


def _rotation_spec(rotation: Rotation, participants: list[int]) -> RotationSpec:
    window = None
    if rotation.active_from is not None and rotation.active_until is not None:
        window = (rotation.active_from, rotation.active_until)
    return RotationSpec(
        id=rotation.pk,
        name=rotation.name,
        position=rotation.position,
        participants=tuple(participants),
        starts_on=rotation.starts_on,
        handoff=rotation.handoff_time,
        period_days=rotation.period_days,
        days=frozenset(rotation.days or ()),
        window=window,
        wedding_day_only=rotation.wedding_day_only,
        ends_on=rotation.ends_on,
    )


def _wedding_windows(orgs: list[Organization], start: dt.datetime, end: dt.datetime) -> dict[uuid.UUID, list[tuple]]:
    """``{organization id: [(start, end)]}``: UTC intervals of the (not cancelled) wedding days of
    ``orgs`` that touch [start, end), each organization's in date order. One query for all of them."""
    if not orgs:
        return {}
    by_org = {o.pk: o for o in orgs}
    lo = min(start.astimezone(o.tz).date() for o in by_org.values()) - dt.timedelta(days=1)
    hi = max(end.astimezone(o.tz).date() for o in by_org.values()) + dt.timedelta(days=1)
    days = set(
        Wedding.objects.filter(organization_id__in=list(by_org), wedding_date__gte=lo, wedding_date__lte=hi)
        .exclude(status=Wedding.Status.CANCELLED)
        .values_list("organization_id", "wedding_date")
    )
    out: dict[uuid.UUID, list[tuple]] = defaultdict(list)
    for org_id, day in sorted(days, key=lambda x: (str(x[0]), x[1])):
        tz = by_org[org_id].tz
        out[org_id].append(
            (
                localize(dt.datetime.combine(day, dt.time()), tz),
                localize(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), tz),
            )
        )
    return out


def schedule_specs(schedules, *, start: dt.datetime, end: dt.datetime) -> dict[uuid.UUID, ScheduleSpec]:
    """``{schedule id: ScheduleSpec}`` valid for instants in [start, end): rotations with their
    participants, the overrides overlapping the range, and the wedding days of the organizations in
    scope (the schedule's own, or a platform schedule's ``wedding_day_organizations``). At most five
    queries, whatever the number of schedules (the wedding days of all of them in one)."""
    schedules = list(schedules)
    ids = [s.pk for s in schedules]
    rotations = defaultdict(list)
    for r in Rotation.objects.filter(schedule_id__in=ids).prefetch_related("participants"):
        people = [p.user_id for p in sorted(r.participants.all(), key=lambda p: p.position)]
        rotations[r.schedule_id].append(_rotation_spec(r, people))
    overrides = defaultdict(list)
    for o in Override.objects.filter(schedule_id__in=ids, ends_at__gt=start, starts_at__lt=end).order_by(
        "created_at", "id"
    ):
        overrides[o.schedule_id].append(OverrideSpec(start=o.starts_at, end=o.ends_at, person=o.user_id, id=o.pk))
    scope = defaultdict(list)
    platform_ids = [s.pk for s in schedules if s.organization_id is None]
    if platform_ids:
        for row in ScheduleWeddingDayScope.objects.filter(schedule_id__in=platform_ids).select_related(
            "scoped_organization"
        ):
            scope[row.schedule_id].append(row.scoped_organization)
    orgs = {s.organization_id: s.organization for s in schedules if s.organization_id is not None}
    for s in schedules:
        if s.organization_id is not None:
            scope[s.pk] = [orgs[s.organization_id]]
    # The wedding days of every organization that a schedule with a wedding-day layer scopes: one query.
    layered = {s.pk for s in schedules if any(r.wedding_day_only for r in rotations[s.pk])}
    windows = _wedding_windows(list({o.pk: o for pk in layered for o in scope.get(pk, [])}.values()), start, end)
    specs = {}
    for s in schedules:
        scoped = scope.get(s.pk, [])
        specs[s.pk] = ScheduleSpec(
            id=s.pk,
            name=s.name,
            timezone=s.timezone,
            rotations=tuple(rotations[s.pk]),
            overrides=tuple(overrides[s.pk]),
            wedding_day_zones=tuple(o.timezone for o in scoped),
            wedding_day_windows=(
                tuple(sorted(w for o in scoped for w in windows.get(o.pk, ()))) if s.pk in layered else ()
            ),
        )
    return specs


def schedule_spec(schedule: Schedule, *, start: dt.datetime, end: dt.datetime) -> ScheduleSpec:
    """``schedule_specs`` for one schedule."""
    return schedule_specs([schedule], start=start, end=end)[schedule.pk]


def oncall_person(*, schedule: Schedule, at: dt.datetime) -> tuple[OnCall | None, object]:
    """``(answer, user)``: who is on call for ``schedule`` at ``at`` (``oncall_at`` on a spec loaded
    around ``at``) and that user (None for a gap)."""
    spec = schedule_spec(schedule, start=at - dt.timedelta(days=1), end=at + dt.timedelta(days=1))
    answer = oncall_at(spec, at)
    user = User.objects.filter(pk=answer.person).first() if answer else None
    return answer, user


@dataclass
class Lane:
    """One row of a timeline chart: ``label`` and its ``shifts`` (``Shift``), with names for their people."""

    label: str
    shifts: list[Shift]
    is_final: bool = False


@dataclass
class ScheduleTimeline:
    """What the on-call pages show for one schedule over [start, end) (aware, UTC).

    ``final``: the resolved shifts (gaps included); ``lanes``: the final lane, then each layer
    (highest first) and the overrides; ``now``: the answer at ``now`` with ``until`` (when it ends
    within the range); ``next_shift``: the next shift with someone else; ``gaps``: the final
    lane's gaps; ``names``: ``{user id: name}`` of everyone in the lanes.
    """

    schedule: Schedule
    spec: ScheduleSpec
    start: dt.datetime
    end: dt.datetime
    final: list[Shift]
    lanes: list[Lane]
    now: OnCall | None
    until: dt.datetime | None
    next_shift: Shift | None
    gaps: list[Shift]
    names: dict[int, str] = field(default_factory=dict)

    @property
    def now_name(self) -> str:
        return self.names.get(self.now.person, "?") if self.now else ""

    @property
    def next_name(self) -> str:
        return self.names.get(self.next_shift.person or 0, "?") if self.next_shift else ""

    @property
    def days(self) -> int:
        return round((self.end - self.start).total_seconds() / 86400)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self.spec.tz


def schedule_timelines(schedules, *, now: dt.datetime, days: int | None = None) -> list[ScheduleTimeline]:
    """The timeline of each schedule from ``now`` for ``days`` (default ``ONCALL_TIMELINE_DAYS``), in order."""
    schedules = list(schedules)
    days = days or conf.TIMELINE_DAYS
    start = now.astimezone(dt.UTC)
    end = start + dt.timedelta(days=days)
    specs = schedule_specs(schedules, start=start - dt.timedelta(days=1), end=end + dt.timedelta(days=1))
    out = []
    people: set[int] = set()
    for s in schedules:
        spec = specs[s.pk]
        final = shifts_between(spec, start, end)
        lanes = [Lane("On call", final, is_final=True)]
        for r in sorted(spec.rotations, key=lambda r: -r.position):
            label = f"{r.name}{' (wedding day)' if r.wedding_day_only else ''}"
            lanes.append(Lane(label, [x for x in layer_shifts(spec, r, start, end) if not x.is_gap]))
        if spec.overrides:
            lanes.append(
                Lane(
                    "Overrides",
                    [
                        Shift(max(o.start, start), min(o.end, end), o.person, "override")
                        for o in spec.overrides
                        if o.end > start and o.start < end
                    ],
                )
            )
        current = final[0] if final else None
        answer = oncall_at(spec, start)
        nxt = next(
            (x for x in final[1:] if x.person is not None and x.person != (answer.person if answer else None)), None
        )
        timeline = ScheduleTimeline(
            schedule=s,
            spec=spec,
            start=start,
            end=end,
            final=final,
            lanes=lanes,
            now=answer,
            until=current.end if current and current.end < end else None,
            next_shift=nxt,
            gaps=[x for x in final if x.is_gap],
        )
        people.update(x.person for lane in lanes for x in lane.shifts if x.person is not None)
        out.append(timeline)
    names = people_names(people)
    for t in out:
        t.names = names
    return out


def schedules_visible(*, organization_id: uuid.UUID | None = None, platform: bool = True):
    """Enabled schedules the context can see: the platform's (if ``platform``) and ``organization_id``'s,
    platform ones first, then by name."""
    q = Q(organization__isnull=True) if platform else Q(pk__in=[])
    if organization_id is not None:
        q |= Q(organization_id=organization_id)
    return (
        Schedule.objects.filter(q, enabled=True).select_related("organization").order_by("organization__name", "name")
    )


@dataclass(frozen=True)
class NamedShift:
    """A shift of one local day with its person's name (``""`` for a gap) and ``span``: ``"09:00–24:00"``."""

    start: dt.datetime
    end: dt.datetime
    name: str
    source: str
    span: str = ""


@dataclass
class TodayRow:
    """The Saturday dashboard's line for one schedule: who is on call now, until when, and today's shifts."""

    timeline: ScheduleTimeline
    today: list[NamedShift]
    local_date: dt.date


def oncall_today(*, now: dt.datetime) -> list[TodayRow]:
    """Every enabled schedule (platform first) with its shifts over the schedule's local today.

    Each row's ``timeline`` spans that local day: ``final`` is the day's shifts (gaps included),
    ``now`` the answer at ``now`` and ``until`` when its shift ends within the day; ``lanes`` are
    left empty (the per-layer lanes are the schedule page's). One query for the schedules, the
    five of ``schedule_specs`` and one for the names.
    """
    schedules = list(
        Schedule.objects.filter(enabled=True).select_related("organization").order_by("organization__name", "name")
    )
    days = {}
    for s in schedules:
        tz = zoneinfo.ZoneInfo(s.timezone)
        local_date = now.astimezone(tz).date()
        days[s.pk] = (
            local_date,
            localize(dt.datetime.combine(local_date, dt.time()), tz),
            localize(dt.datetime.combine(local_date + dt.timedelta(days=1), dt.time()), tz),
        )
    if not schedules:
        return []
    specs = schedule_specs(
        schedules,
        start=min(d[1] for d in days.values()) - dt.timedelta(days=1),
        end=max(d[2] for d in days.values()) + dt.timedelta(days=1),
    )
    answers = {s.pk: oncall_at(specs[s.pk], now) for s in schedules}
    today = {s.pk: shifts_between(specs[s.pk], days[s.pk][1], days[s.pk][2]) for s in schedules}
    names = people_names(
        {x.person for shifts in today.values() for x in shifts} | {a.person for a in answers.values() if a}
    )
    rows = []
    for s in schedules:
        spec, (local_date, day_start, day_end), shifts = specs[s.pk], days[s.pk], today[s.pk]
        current = next((x for x in shifts if x.start <= now < x.end), None)
        timeline = ScheduleTimeline(
            schedule=s,
            spec=spec,
            start=day_start,
            end=day_end,
            final=shifts,
            lanes=[],
            now=answers[s.pk],
            until=current.end if current and current.end < day_end else None,
            next_shift=next((x for x in shifts if x.start > now and x.person is not None), None),
            gaps=[x for x in shifts if x.is_gap],
            names=names,
        )
        named = [
            NamedShift(
                x.start,
                x.end,
                names.get(x.person, "?") if x.person else "",
                x.source,
                f"{x.start.astimezone(spec.tz):%H:%M}–"
                + ("24:00" if x.end == day_end else f"{x.end.astimezone(spec.tz):%H:%M}"),
            )
            for x in shifts
        ]
        rows.append(TodayRow(timeline=timeline, today=named, local_date=local_date))
    return sorted(rows, key=lambda r: r.timeline.schedule.organization_id is not None)  # platform first


def person_shifts(*, user, start: dt.datetime, end: dt.datetime) -> list[tuple[Schedule, Shift]]:
    """``[(schedule, shift)]`` where ``user`` is on call within [start, end), across the schedules the
    context can see that name them (as participant or override), by start."""
    schedule_ids = set(Rotation.objects.filter(participants__user=user).values_list("schedule_id", flat=True))
    schedule_ids |= set(Override.objects.filter(user=user, ends_at__gt=start).values_list("schedule_id", flat=True))
    schedules = list(Schedule.objects.filter(pk__in=schedule_ids, enabled=True).select_related("organization"))
    specs = schedule_specs(schedules, start=start - dt.timedelta(days=1), end=end + dt.timedelta(days=1))
    out = []
    for s in schedules:
        out += [(s, x) for x in shifts_between(specs[s.pk], start, end) if x.person == user.pk]
    return sorted(out, key=lambda p: p[1].start)


def contact_methods_of(user) -> list[ContactMethod]:
    """The person's contact methods, by kind then address."""
    return list(ContactMethod.objects.filter(user=user).order_by("kind", "address"))


def rules_of(user, *, wedding_day: bool) -> list[PersonalRule]:
    """The person's ordinary (or wedding-day) rule list, in order, contact methods joined."""
    return list(
        PersonalRule.objects.filter(user=user, wedding_day=wedding_day)
        .select_related("contact_method")
        .order_by("position", "delay_minutes", "created_at")
    )


def user_for_slack_member(member_id: str):
    """The portal user whose Slack contact method is ``member_id``, or None (one Slack member, one person)."""
    cm = ContactMethod.objects.filter(kind="slack", address=member_id).select_related("user").first()
    return cm.user if cm is not None and cm.user.is_active else None
