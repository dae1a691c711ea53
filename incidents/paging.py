"""Who an escalation step pages besides the routed channels: its target, resolved at the moment of the step.

``step_pages`` turns a step's target (``EscalationStep.Target``) into pages for the outbox: a
schedule's on-call person (``oncall.selectors.oncall_person``, the pure ``oncall_at`` on the
schedule's definition) or a named user, through their own rules (``oncall.services.person_page``);
an escalation contact at each of its addresses (``oncall.services.contact_page``); or a channel,
notified whatever routing says. ``paged_text`` then names, from the deliveries actually written,
who was paged and how, so the timeline never claims a page that has no delivery.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from notifications.services import Recipient
from oncall.models import Schedule
from oncall.selectors import oncall_person
from oncall.services import contact_page, person_page

from .models import EscalationContact


@dataclass(frozen=True)
class StepTarget:
    """A step's target as plain data: ``kind`` (level, schedule, user, contact, channel) and its id."""

    kind: str = "level"
    schedule_id: uuid.UUID | None = None
    user_id: int | None = None
    contact_id: uuid.UUID | None = None
    channel_id: uuid.UUID | None = None

    @classmethod
    def of(cls, step) -> StepTarget:
        return cls(
            kind=step.target,
            schedule_id=step.schedule_id,
            user_id=step.user_id,
            contact_id=step.contact_id,
            channel_id=step.channel_id,
        )


LEVEL = StepTarget()


@dataclass
class StepPages:
    """What a step pages: ``recipients`` (for ``notification_enqueue``), extra ``channel_ids``, and
    ``notes``: why each person was chosen, or why nobody could be (e.g. a gap in the schedule)."""

    recipients: list[Recipient] = field(default_factory=list)
    channel_ids: list = field(default_factory=list)
    reasons: dict = field(default_factory=dict)  # (user_id, contact_id) -> why this person
    notes: list[str] = field(default_factory=list)


def step_pages(*, target: StepTarget, incident, step: int, wedding_day: bool, now: dt.datetime) -> StepPages:
    """The pages of escalation ``step`` of ``incident`` at ``now`` for ``target`` (see the module docstring).

    Runs in the caller's (service) context. A schedule or user the context cannot see, a gap in the
    schedule or a person who cannot be reached gives no page and a note saying so.
    """
    out = StepPages()
    if target.kind == "channel" and target.channel_id:
        out.channel_ids.append(target.channel_id)
        return out
    if target.kind == "contact" and target.contact_id:
        contact = EscalationContact.objects.filter(pk=target.contact_id).first()
        if contact is None:
            out.notes.append("the step's contact no longer exists: nobody paged directly")
            return out
        _add(
            out,
            contact_page(contact=contact, incident=incident, step=step, now=now, reason="escalation contact"),
            key=(None, contact.pk),
            reason="escalation contact",
        )
        return out
    user, reason = None, ""
    if target.kind == "schedule" and target.schedule_id:
        schedule = Schedule.objects.filter(pk=target.schedule_id).first()
        if schedule is None or not schedule.enabled:
            out.notes.append("the step's schedule is missing or disabled: nobody paged directly")
            return out
        answer, user = oncall_person(schedule=schedule, at=now)
        if user is None:
            local = now.astimezone(schedule.tz)
            out.notes.append(
                f"nobody is on call for '{schedule.name}' at {local:%a %d %b %H:%M} "
                f"{schedule.timezone} (a gap in the schedule): nobody paged directly"
            )
            return out
        reason = f"on call for '{schedule.name}'" + ("" if answer.source == schedule.name else f" ({answer.source})")
    elif target.kind == "user" and target.user_id:
        user = get_user_model().objects.filter(pk=target.user_id).first()
        reason = "named in the escalation policy"
        if user is None:
            out.notes.append("the step's user no longer exists: nobody paged directly")
            return out
    else:
        return out
    page = person_page(user=user, incident=incident, step=step, wedding_day=wedding_day, now=now, reason=reason)
    _add(out, page, key=(user.pk, None), reason=reason)
    return out


def _add(out: StepPages, page, *, key, reason: str) -> None:
    if page.recipients:
        out.recipients += page.recipients
        out.reasons[key] = reason
    else:
        out.notes.append(f"{page.name} ({reason}) cannot be paged: {page.problem}")


def _when(delivery, now: dt.datetime) -> str:
    wait = (delivery.next_attempt_at - now).total_seconds() / 60.0
    return "at once" if wait < 0.5 else f"in {wait:.0f} min unless acknowledged"


def paged_text(deliveries, *, pages: StepPages, now: dt.datetime) -> str:
    """``"Paged Priya Shah (on call for 'Platform primary' (Weekdays)): email priya@… at once, SMS +44… at once,
    voice call +44… in 3 min unless acknowledged."`` for the page deliveries written, plus the notes."""
    people: dict = {}
    for d in deliveries:
        if d.channel_id is None:
            people.setdefault((d.user_id, d.contact_id), []).append(d)
    parts = []
    for key, rows in people.items():
        how = ", ".join(
            f"{d.get_method_display()} {d.address} {_when(d, now)}"
            for d in sorted(rows, key=lambda d: (d.next_attempt_at, d.method))
        )
        why = pages.reasons.get(key, "")
        parts.append(f"Paged {rows[0].recipient_name}{f' ({why})' if why else ''}: {how}.")
    parts += [f"{note[0].upper()}{note[1:]}." for note in pages.notes]
    return " ".join(parts)
