"""When a check's next ping is due: periods and cron expressions in a time zone (cronsim, as healthchecks.io).

A cron expression is read in the check's IANA time zone and its next time
is converted back to UTC before any timedelta is added to it (as
healthchecks.io's ``Check.get_grace_start`` does), so grace periods across a
DST change stay exact. cronsim (the parser healthchecks.io itself uses)
handles the DST gaps and repeats: a time skipped by spring-forward runs at
the first valid minute after it; a repeated hour runs once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError

from heartbeats import conf


def cron_validate(expression: str, *, field: str = "cron") -> str:
    """Return the expression stripped if cronsim reads it as 5 fields with a next time; else ValidationError(field)."""
    text = (expression or "").strip()
    if len(text.split()) != 5:
        raise ValidationError({field: "a cron expression has 5 fields: minute hour day-of-month month day-of-week"})
    try:
        next(CronSim(text, dt.datetime(2000, 1, 1)))
    except (CronSimError, StopIteration) as exc:
        raise ValidationError({field: f"not a valid cron expression: {exc or 'no next time'}"}) from None
    return text


def timezone_validate(name: str, *, field: str = "timezone") -> zoneinfo.ZoneInfo:
    """The ZoneInfo of an IANA name; ValidationError(field) for an unknown one."""
    try:
        return zoneinfo.ZoneInfo(name or "")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({field: f"unknown time zone {name!r} (an IANA name such as Europe/London)"}) from None


def cron_next(expression: str, tz_name: str, after: dt.datetime) -> dt.datetime:
    """The first time of ``expression`` (in ``tz_name``) strictly after ``after``, as an aware UTC datetime."""
    local = after.astimezone(zoneinfo.ZoneInfo(tz_name))
    return next(CronSim(expression, local)).astimezone(dt.UTC)


def cron_period_s(expression: str, tz_name: str, around: dt.datetime) -> float:
    """Seconds between the two cron times that follow ``around`` (a cron job's period there)."""
    first = cron_next(expression, tz_name, around)
    return (cron_next(expression, tz_name, first) - first).total_seconds()


def cron_describe(expression: str) -> str:
    """cronsim's English reading, e.g. ``"At 02:00 every day"`` (empty if it has none)."""
    try:
        return CronSim(expression, dt.datetime(2000, 1, 1)).explain()
    except Exception:  # noqa: BLE001 - a description is a nicety
        return ""


def next_expected_after(*, kind: str, period_s: int, cron: str, tz_name: str, last_ping_at: dt.datetime) -> dt.datetime:
    """When the ping after one at ``last_ping_at`` is due (grace starts): ``+ period_s``, or the next cron time."""
    if kind == "cron":
        return cron_next(cron, tz_name, last_ping_at)
    return last_ping_at + dt.timedelta(seconds=period_s)


def seconds_validate(value, *, field: str, low: int, high: int) -> int:
    """An int of seconds in [low, high]; ValidationError(field) otherwise (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: "a whole number of seconds"})
    if not low <= value <= high:
        raise ValidationError({field: f"between {low} and {high} seconds"})
    return value


def schedule_validate(
    *, kind: str, period_s: int, cron: str, tz_name: str, grace_s: int, wedding_day_grace_s: int | None
) -> dict:
    """Check a schedule; returns the cleaned fields or raises ValidationError keyed by the field.

    ``kind`` period or cron; ``period_s`` and ``grace_s`` 60 s to a year
    (healthchecks.io's limits); a cron kind needs a valid 5-field ``cron``
    and an IANA ``tz_name``; ``wedding_day_grace_s`` (None: half the grace)
    must be at least 1 and no longer than ``grace_s`` (it is the stricter one).
    """
    if kind not in ("period", "cron"):
        raise ValidationError({"kind": "period or cron"})
    cleaned = {"kind": kind, "timezone": tz_name or "UTC"}
    timezone_validate(cleaned["timezone"])
    cleaned["period_s"] = seconds_validate(period_s, field="period_s", low=conf.MIN_PERIOD_S, high=conf.MAX_PERIOD_S)
    cleaned["cron"] = cron_validate(cron) if kind == "cron" else (cron or "").strip()
    cleaned["grace_s"] = seconds_validate(grace_s, field="grace_s", low=conf.MIN_GRACE_S, high=conf.MAX_GRACE_S)
    if wedding_day_grace_s is not None:
        seconds_validate(wedding_day_grace_s, field="wedding_day_grace_s", low=1, high=conf.MAX_GRACE_S)
        if wedding_day_grace_s > cleaned["grace_s"]:
            raise ValidationError({"wedding_day_grace_s": "the wedding-day grace is the stricter one: at most grace_s"})
    cleaned["wedding_day_grace_s"] = wedding_day_grace_s
    return cleaned


def human_seconds(seconds: float | None) -> str:
    """A duration for people, two units at most: ``1 day``, ``1 h 30 min``, ``7 min 30 s``, ``42 s``, ``1.5 s``.

    ``seconds`` in s; None gives ``–``.
    """
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    whole = round(seconds)
    parts = []
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        n, whole = divmod(whole, size)
        if n:
            parts.append(f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}")
    return " ".join(parts[:2])
