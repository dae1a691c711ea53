"""Writes of schedules, rotations (layers), their participants and overrides: validated first, one transaction.

Every function runs in the caller's tenant context (row-level security applies: an organization's
admin can only write its own schedules) and raises ``ValidationError`` naming the field and the
reason for bad input. Participants and override people must be eligible: operations staff for a
platform schedule, members of the organization for an organization's schedule.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wedsync_ops.tenancy.models import Organization, UserProfile

from ..models import Override, Rotation, RotationParticipant, Schedule, ScheduleWeddingDayScope, new_feed_token

User = get_user_model()


def eligible(user, *, organization_id) -> bool:
    """Whether ``user`` may be on call for a schedule of ``organization_id`` (None: the platform's)."""
    if user is None or not user.is_active:
        return False
    if organization_id is None:
        return bool(user.is_staff)
    return UserProfile.objects.filter(user_id=user.pk, organization_id=organization_id).exists()


def eligible_people(*, organization_id):
    """The users who may be on call for a schedule of ``organization_id`` (staff for the platform), by username."""
    if organization_id is None:
        return User.objects.filter(is_staff=True, is_active=True).order_by("username")
    return User.objects.filter(profile__organization_id=organization_id, is_active=True).order_by("username")


def _check_timezone(name: str, errors: dict) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"{name!r} is not an IANA time zone (e.g. Europe/London)"


def schedule_save(
    *,
    schedule: Schedule | None = None,
    organization: Organization | None,
    name: str,
    timezone_name: str,
    description: str = "",
    enabled: bool = True,
    wedding_day_organizations=None,
) -> Schedule:
    """Create (``schedule`` None) or update a schedule; returns it.

    ``wedding_day_organizations`` (platform schedules only; None: unchanged) sets whose wedding days
    turn its wedding-day layers on. Raises ValidationError: ``name`` empty or taken in its scope,
    ``timezone`` unknown, ``wedding_day_organizations`` given for an organization's schedule.
    """
    errors: dict = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "a schedule needs a name"
    _check_timezone(timezone_name, errors)
    org_id = getattr(organization, "pk", None) if schedule is None else schedule.organization_id
    if wedding_day_organizations and org_id is not None:
        errors["wedding_day_organizations"] = "an organization's schedule follows its own organization's wedding days"
    taken = Schedule.objects.filter(organization_id=org_id, name=name)  # type: ignore[misc]  # None: IS NULL, which django-stubs does not model
    if schedule is not None:
        taken = taken.exclude(pk=schedule.pk)
    if name and taken.exists():
        errors["name"] = f"there is already a schedule named {name!r}"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if schedule is None:
            schedule = Schedule(organization_id=org_id)
        schedule.name, schedule.timezone = name[:120], timezone_name
        schedule.description, schedule.enabled = description, enabled
        schedule.save()
        if wedding_day_organizations is not None:
            ScheduleWeddingDayScope.objects.filter(schedule=schedule).delete()
            for org in wedding_day_organizations:
                ScheduleWeddingDayScope.objects.create(schedule=schedule, scoped_organization=org)
    return schedule


def schedule_feed_regenerate(*, schedule: Schedule) -> str:
    """Give the schedule's iCal feed a new secret URL (the old one stops working); returns the new token."""
    schedule.ical_token = new_feed_token()
    schedule.save(update_fields=["ical_token"])
    return schedule.ical_token


def rotation_save(
    *,
    schedule: Schedule,
    rotation: Rotation | None = None,
    name: str,
    position: int,
    starts_on: dt.date,
    handoff_time: dt.time,
    period_unit: str = "week",
    period_count: int = 1,
    participants: list,
    days=(),
    active_from: dt.time | None = None,
    active_until: dt.time | None = None,
    wedding_day_only: bool = False,
    ends_on: dt.date | None = None,
) -> Rotation:
    """Create or update a layer of ``schedule`` with its ``participants`` (users, in turn order); returns it.

    Raises ValidationError naming the field: ``name`` empty; ``period_unit`` not day/week;
    ``period_count`` outside 1-52; ``days`` not ISO weekdays 1-7; only one of ``active_from`` /
    ``active_until``; ``ends_on`` before ``starts_on``; ``participants`` empty, repeated, or not
    eligible for the schedule (staff for the platform's, members for an organization's).
    """
    errors: dict = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "a layer needs a name"
    if period_unit not in Rotation.Unit.values:
        errors["period_unit"] = f"must be one of {', '.join(Rotation.Unit.values)}"
    if not isinstance(period_count, int) or not 1 <= period_count <= 52:
        errors["period_count"] = "hand off every 1 to 52 days or weeks"
    days = sorted({int(d) for d in days or ()})
    if any(not 1 <= d <= 7 for d in days):
        errors["days"] = "weekdays are 1 (Monday) to 7 (Sunday)"
    if (active_from is None) != (active_until is None):
        errors["active_until" if active_until is None else "active_from"] = "give both ends of the daily window"
    if ends_on is not None and starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = "ends before it starts"
    if not participants:
        errors["participants"] = "a layer needs at least one participant"
    elif len({p.pk for p in participants}) != len(participants):
        errors["participants"] = "each person once per layer (their turn comes round again by itself)"
    else:
        bad = [p.get_username() for p in participants if not eligible(p, organization_id=schedule.organization_id)]
        if bad:
            who = "operations staff" if schedule.organization_id is None else "members of the organization"
            errors["participants"] = f"not {who}: {', '.join(bad)}"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rotation = rotation or Rotation(schedule=schedule)
        for attr, value in dict(
            name=name[:120],
            position=position,
            starts_on=starts_on,
            handoff_time=handoff_time,
            period_unit=period_unit,
            period_count=period_count,
            days=days,
            active_from=active_from,
            active_until=active_until,
            wedding_day_only=wedding_day_only,
            ends_on=ends_on,
        ).items():
            setattr(rotation, attr, value)
        rotation.save()
        RotationParticipant.objects.filter(rotation=rotation).delete()
        for index, user in enumerate(participants):
            RotationParticipant.objects.create(rotation=rotation, user=user, position=index)
    return rotation


def rotation_delete(*, rotation: Rotation) -> None:
    """Delete a layer and its participants."""
    rotation.delete()


def override_create(
    *, schedule: Schedule, user, starts_at: dt.datetime, ends_at: dt.datetime, by=None, reason: str = ""
) -> Override:
    """Put ``user`` on call for ``schedule`` from ``starts_at`` to ``ends_at`` (aware); returns the Override.

    Raises ValidationError: naive times, ``ends_at`` not after ``starts_at``, longer than 31 days,
    ``user`` not eligible for the schedule.
    """
    errors: dict = {}
    if starts_at is None or timezone.is_naive(starts_at):
        errors["starts_at"] = "an aware date-time is required"
    if ends_at is None or timezone.is_naive(ends_at):
        errors["ends_at"] = "an aware date-time is required"
    elif not errors and ends_at <= starts_at:
        errors["ends_at"] = "must be after the start"
    elif not errors and ends_at - starts_at > dt.timedelta(days=31):
        errors["ends_at"] = "an override lasts at most 31 days (use a layer for longer)"
    if not eligible(user, organization_id=schedule.organization_id):
        who = "operations staff" if schedule.organization_id is None else "a member of the organization"
        errors["user"] = f"must be {who}"
    if errors:
        raise ValidationError(errors)
    return Override.objects.create(
        schedule=schedule,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=by if getattr(by, "pk", None) else None,
        reason=reason[:200],
    )


def override_delete(*, override: Override) -> None:
    """Delete an override."""
    override.delete()
