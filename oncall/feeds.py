"""iCal feeds (RFC 5545, built with the ``icalendar`` package) at secret URLs: per schedule and per person.

``/oncall/feeds/schedule/<token>.ics``: every shift of the schedule (and its gaps, as "GAP: nobody on
call") from ``ONCALL_FEED_PAST_DAYS`` ago to ``ONCALL_FEED_FUTURE_DAYS`` ahead.
``/oncall/feeds/person/<token>.ics``: the person's own shifts across the schedules that name them.
The token is the only credential (calendar apps cannot log in): an unknown token is 404 and
regenerating it (on the schedule or "my paging" page) revokes the old URL. Each event has a stable
UID (schedule, start, person) so calendars update shifts in place.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from wedsync_ops.tenancy.context import service_context

from . import conf
from .models import PagingProfile, Schedule
from .schedule import shifts_between
from .selectors import display_name, people_names, person_shifts, schedule_spec


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//WedSync Ops//on-call//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-published-ttl", "PT1H")
    return cal


def _event(*, uid: str, summary: str, start: dt.datetime, end: dt.datetime, now: dt.datetime, description: str = ""):
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", start.astimezone(dt.UTC))
    event.add("dtend", end.astimezone(dt.UTC))
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("transp", "TRANSPARENT")
    if description:
        event.add("description", description)
    return event


def _response(cal: Calendar, filename: str) -> HttpResponse:
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _span(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=conf.FEED_PAST_DAYS), now + dt.timedelta(days=conf.FEED_FUTURE_DAYS)


@require_GET
def schedule_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The schedule's feed (see the module docstring); 404 for an unknown or disabled schedule's token."""
    now = timezone.now()
    start, end = _span(now)
    with service_context():
        schedule = Schedule.objects.filter(ical_token=token, enabled=True).first()
        if schedule is None:
            raise Http404("No such feed")
        shifts = shifts_between(schedule_spec(schedule, start=start, end=end), start, end)
        names = people_names({s.person for s in shifts})
    cal = _calendar(f"On call: {schedule.name}")
    for s in shifts:
        who = names.get(s.person, "?") if s.person is not None else None
        cal.add_component(
            _event(
                uid=f"{schedule.pk}-{s.start:%Y%m%dT%H%M%SZ}-{s.person or 'gap'}@wedsync-ops",
                summary=f"{who} on call ({schedule.name})" if who else f"GAP: nobody on call ({schedule.name})",
                start=s.start,
                end=s.end,
                now=now,
                description=f"Layer: {s.source}" if s.source else "Nobody is on call: add a layer or an override.",
            )
        )
    return _response(cal, f"oncall-{schedule.pk}.ics")


@require_GET
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The person's feed: their shifts in every schedule that names them; 404 for an unknown token."""
    now = timezone.now()
    start, end = _span(now)
    with service_context():
        profile = PagingProfile.objects.filter(ical_token=token).select_related("user").first()
        if profile is None or not profile.user.is_active:
            raise Http404("No such feed")
        shifts = person_shifts(user=profile.user, start=start, end=end)
    cal = _calendar(f"My on-call shifts ({display_name(profile.user)})")
    for schedule, s in shifts:
        cal.add_component(
            _event(
                uid=f"{schedule.pk}-{s.start:%Y%m%dT%H%M%SZ}-{s.person}@wedsync-ops",
                summary=f"On call: {schedule.name}",
                start=s.start,
                end=s.end,
                now=now,
                description=f"Layer: {s.source}" if s.source else "",
            )
        )
    return _response(cal, "my-oncall.ics")
