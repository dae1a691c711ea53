"""Escalation: page people while an incident (or a critical alert) stays unacknowledged.

Model (docs/design/tenancy-and-rls.md, "Wedding-day rules", issue 5 section 3):

- The applicable plan of an incident's organization at ``now``: while its
  wedding-day protocol is on (local wedding day or local Saturday, or the
  incident is ``wedding_day_critical``), the first enabled of: the
  organization's wedding-day policy, the platform's wedding-day policy, then
  the ordinary ones; otherwise the organization's ordinary policy, then the
  platform default. Without any policy: one step to ``team_lead`` after
  ``ESCALATION_DEFAULT_WAIT_MINUTES`` (``ESCALATION_WEDDING_DAY_WAIT_MINUTES``
  on a wedding day).
- A plan's steps run in order, ``repeat_count`` times: step ``k`` (0-based
  over all rounds) is due ``wait_minutes`` after the incident's escalation
  clock (``escalation_clock_at``): set when the portal opened, reopened or
  unmuted the incident (never the alert's own ``startsAt``, which may be days
  old), then moved to the instant each step was *due* when it is taken, so a
  late beat does not push every later step back.
- Only ``open`` incidents that are not muted escalate: acknowledging (or
  investigating, resolving, closing, merging) stops it, and so does a silence
  that mutes every open alert of it (``muted_at``); reopening starts over.
- Each step happens exactly once, even with several beat or worker
  processes: it is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` on
  ``id = %s AND status = 'open' AND escalation_step = k`` and the step
  counter is raised in the same transaction, so a concurrent beat skips the
  row while it is claimed and finds ``escalation_step = k + 1`` afterwards.
- Notifying: the step enqueues ``incident.escalated`` (step ``k + 1``)
  through routing (``incidents.notify``), raises ``incidents.escalation_level``
  and writes one internal ``escalation`` timeline row naming the channels
  notified and keeping their delivery ids (the incident page shows each
  one's outcome). The step's contacts (the active contacts at its level, of
  the organization and the platform, within their active hours; every
  wedding-day emergency contact while the protocol is on) travel in the
  payload for the pager behind a channel; the timeline lists them as such,
  never as "paged" (nothing was sent to them directly).
- Paging people: a step whose target is a schedule (its on-call person at
  that moment), a named user or an escalation contact pages that person in
  the same notification, each of their methods a delivery of its own
  (``incidents.paging``, ``oncall.services``); a channel target is notified
  whatever routing says. The timeline row says "Paged <name> (<why>): <method>
  <address> at once, …" from the deliveries written, and why nobody could be
  paged (a gap in the schedule, no contact method) otherwise.
- Critical alerts (severity critical or emergency) still ``firing`` past the
  first step's wait after their escalation clock (``escalation_clock_at``:
  when the portal first saw them, or a silence released them) become
  ``escalated`` (``alerts.services.alert_escalate``); one without an open
  incident enqueues ``alert.escalated``, one with an incident gets a line in
  that incident's timeline (the incident's own escalation pages for it).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import AlertHistory
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.wedding_day import wedding_day

from . import conf
from .models import EscalationContact, EscalationPolicy, Incident, IncidentUpdate
from .notify import channel_names, incident_notify
from .paging import LEVEL, StepTarget, paged_text, step_pages

LEVELS = ("none", "team_lead", "manager", "director", "executive")


@dataclass(frozen=True)
class EscalationPlan:
    """The steps that apply: ``steps`` is a list of ``(wait_minutes, level)``; ``total`` = steps × repeats.

    ``wedding_day``: the wedding-day protocol is on (emergency contacts are
    paged), whichever policy variant was found.
    """

    name: str
    wedding_day: bool
    steps: tuple[tuple[int, str], ...]
    repeat_count: int = 1
    policy_id: uuid.UUID | None = None
    reason: str = field(default="", compare=False)
    resolve_manually: bool = False
    targets: tuple[StepTarget, ...] = field(default=(), compare=False)

    @property
    def total(self) -> int:
        return len(self.steps) * self.repeat_count

    def step(self, k: int) -> tuple[int, str]:
        """``(wait_minutes, level)`` of step ``k`` (0-based over all rounds)."""
        return self.steps[k % len(self.steps)]

    def target(self, k: int) -> StepTarget:
        """Who step ``k`` pages besides the routed channels (``incidents.paging.StepTarget``)."""
        return self.targets[k % len(self.targets)] if self.targets else LEVEL


def wedding_day_on(*, organization_id, at: dt.datetime) -> bool:
    """The organization's wedding-day protocol at ``at`` (False for platform-wide incidents)."""
    return wedding_day(organization_id=organization_id, at=at).on


def escalation_plan_for(*, organization_id, wedding_day: bool) -> EscalationPlan:
    """The plan of ``organization_id`` (None: platform-wide) in the current context; see the module docstring."""
    variants = [True, False] if wedding_day else [False]
    policies = {
        (p.organization_id, p.wedding_day): p
        for p in EscalationPolicy.objects.filter(enabled=True)
        .filter(Q(organization_id=organization_id) | Q(organization__isnull=True))
        .prefetch_related("steps")
    }
    for variant in variants:
        for owner in ([organization_id] if organization_id else []) + [None]:
            policy = policies.get((owner, variant))
            if policy is not None:
                ordered = sorted(policy.steps.all(), key=lambda s: s.position)
                steps = tuple((s.wait_minutes, s.level) for s in ordered)
                if steps:
                    return EscalationPlan(
                        targets=tuple(StepTarget.of(s) for s in ordered),
                        name=policy.name,
                        wedding_day=wedding_day,
                        steps=steps,
                        repeat_count=policy.repeat_count,
                        policy_id=policy.pk,
                        resolve_manually=policy.resolve_manually,
                    )
    wait = conf.ESCALATION_WEDDING_DAY_WAIT_MINUTES if wedding_day else conf.ESCALATION_DEFAULT_WAIT_MINUTES
    return EscalationPlan(name="built-in default", wedding_day=wedding_day, steps=((wait, "team_lead"),))


def contact_is_on_duty(contact: EscalationContact, at: dt.datetime) -> bool:
    """True when ``at`` falls in the contact's active hours (local to ``contact.timezone``; may wrap midnight)."""
    if contact.active_from is None or contact.active_until is None:
        return True
    try:
        tz = zoneinfo.ZoneInfo(contact.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    local = at.astimezone(tz).time()
    start, end = contact.active_from, contact.active_until
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def contacts_to_page(*, organization_id, level: str, wedding_day: bool, at: dt.datetime) -> list[EscalationContact]:
    """Contacts paged at ``level`` (see the module docstring), organization's first, then by name."""
    scope = Q(organization__isnull=True) | (Q(organization_id=organization_id) if organization_id else Q(pk=None))
    qs = EscalationContact.objects.filter(scope, is_active=True)
    wanted = Q(level=level) | Q(wedding_day_emergency=True) if wedding_day else Q(level=level)
    chosen = []
    for c in qs.filter(wanted).order_by("name", "id"):
        emergency = wedding_day and c.wedding_day_emergency
        if emergency or (c.level == level and contact_is_on_duty(c, at)):
            chosen.append(c)
    chosen.sort(key=lambda c: (c.organization_id is None, c.name))
    return chosen


def _contact_json(c: EscalationContact) -> dict:
    return {
        "name": c.name,
        "level": c.level,
        "email": c.email,
        "phone": c.phone,
        "slack": c.slack,
        "wedding_day_emergency": c.wedding_day_emergency,
    }


def _next_level_up(level: str) -> str:
    i = LEVELS.index(level) if level in LEVELS else 0
    return LEVELS[min(i + 1, len(LEVELS) - 1)]


def escalation_clock(incident: Incident) -> dt.datetime:
    """The instant the incident's next step's wait counts from (older rows: last step, else creation)."""
    return incident.escalation_clock_at or incident.last_escalated_at or incident.created_at


def _step(
    *,
    incident: Incident,
    k: int,
    plan: EscalationPlan,
    level: str,
    now: dt.datetime,
    clock: dt.datetime,
    by=None,
    allowed_statuses=("open",),
    reason: str = "",
    skip_locked: bool = True,
    target: StepTarget = LEVEL,
) -> Incident | None:
    """Claim and take step ``k``: returns the incident, or None when another process took it (or it stopped).

    The claim locks the row only while it still is at step ``k``, unmuted and in an allowed status
    (``SELECT … FOR UPDATE``; PostgreSQL re-checks the conditions on the latest row version after
    waiting). ``skip_locked`` (the beat): a row locked by another worker is skipped at once, so two
    workers share the due incidents instead of queueing behind each other; a step skipped that way is
    either taken by the other worker or retried at the next beat. Manual escalation waits instead.
    ``clock``: the new escalation clock (the instant this step was due, or ``now`` by hand).
    """
    with transaction.atomic():
        claim = Incident.objects.select_for_update(skip_locked=skip_locked).filter(
            pk=incident.pk, status__in=allowed_statuses, escalation_step=k, merged_into__isnull=True
        )
        if by is None:
            claim = claim.filter(muted_at__isnull=True)
        if claim.values_list("pk", flat=True).first() is None:
            return None
        Incident.objects.filter(pk=incident.pk).update(
            escalation_step=k + 1,
            last_escalated_at=now,
            escalation_clock_at=clock,
            escalation_level=level,
            updated_at=now,
        )
        fresh = Incident.objects.select_related("organization", "wedding").get(pk=incident.pk)
        contacts = contacts_to_page(
            organization_id=fresh.organization_id, level=level, wedding_day=plan.wedding_day, at=now
        )
        names = "; ".join(
            f"{c.name} ({', '.join(x for x in (c.email, c.phone, c.slack) if x) or 'no address'})"
            + (" [wedding-day emergency]" if c.wedding_day_emergency and plan.wedding_day else "")
            for c in contacts
        )
        total = max(plan.total, k + 1)
        by_text = f" by {by.get_username()}" if getattr(by, "pk", None) else ""
        late = (now - (clock if by is None else now)).total_seconds()
        late_text = f", {late / 60:.0f} min after it was due" if late >= 90 else ""
        head = (
            f"Escalated to {level}{by_text} (step {k + 1} of {total}, policy '{plan.name}'"
            f"{', wedding day' if plan.wedding_day else ''}{late_text}){': ' + reason if reason else ''}."
        )
        pages = step_pages(target=target, incident=fresh, step=k + 1, wedding_day=plan.wedding_day, now=now)
        deliveries = incident_notify(
            event="incident.escalated",
            incident=fresh,
            now=now,
            step=k + 1,
            record=False,
            recipients=pages.recipients,
            channels=pages.channel_ids,
            extra={
                "escalation": {
                    "step": k + 1,
                    "of": total,
                    "level": level,
                    "policy": plan.name,
                    "wedding_day": plan.wedding_day,
                    "contacts": [_contact_json(c) for c in contacts],
                }
            },
        )
        to_channels = [d for d in deliveries if d.channel_id is not None]
        paged = paged_text(deliveries, pages=pages, now=now)
        text = f"{head}{' ' + paged if paged else ''}"
        text += (
            f" Notified {len(to_channels)} channel(s): {channel_names(to_channels)}."
            if to_channels
            else (
                " No channel is routed for it." if deliveries else " No channel is routed for it: nobody was notified."
            )
        )
        if target.kind == "level":
            text += (
                f" Contacts for this level, named in the notification (not paged directly): {names}."
                if contacts
                else " No contact is on duty at this level."
            )
        IncidentUpdate.objects.create(
            organization_id=fresh.organization_id,
            incident=fresh,
            kind=IncidentUpdate.Kind.ESCALATION,
            author=by if getattr(by, "pk", None) else None,
            vendor_visible=False,
            created_at=now,
            message=text,
            deliveries=[str(d.pk) for d in deliveries],
        )
    return fresh


def _plan_at(incident_or_alert, now: dt.datetime, cache: dict | None, *, critical_impact: bool) -> EscalationPlan:
    """The plan for an incident or alert at ``now``; ``cache`` (per beat run) memoises per organization."""
    cache = {} if cache is None else cache
    org_id = incident_or_alert.organization_id
    key = ("wd", org_id)
    if key not in cache:
        cache[key] = wedding_day_on(organization_id=org_id, at=now)
    wedding_day_now = critical_impact or cache[key]
    plan_key = ("plan", org_id, wedding_day_now)
    if plan_key not in cache:
        cache[plan_key] = escalation_plan_for(organization_id=org_id, wedding_day=wedding_day_now)
    return cache[plan_key]


def plan_for_incident(*, incident: Incident, now: dt.datetime) -> EscalationPlan:
    """The escalation plan that applies to ``incident`` at ``now`` (its wedding-day variant on a wedding day)."""
    return _plan_at(incident, now, None, critical_impact=incident.wedding_impact == "wedding_day_critical")


def incident_escalate_if_due(*, incident: Incident, now: dt.datetime, _cache: dict | None = None) -> Incident | None:
    """Take the incident's next escalation step if it is due at ``now``; returns it, or None (not due/claimed).

    Due: ``escalation_clock(incident) + wait`` of the step. The clock then moves to that due instant,
    so a step taken late does not delay the next. A muted incident (``muted_at``) does not escalate.
    Plan and wedding-day decision: see the module docstring (``wedding_day_critical`` incidents always
    use the wedding-day variant).
    """
    if incident.status != "open" or incident.merged_into_id is not None or incident.muted_at is not None:
        return None
    plan = _plan_at(incident, now, _cache, critical_impact=incident.wedding_impact == "wedding_day_critical")
    k = incident.escalation_step
    if k >= plan.total:
        return None
    wait, level = plan.step(k)
    due = escalation_clock(incident) + dt.timedelta(minutes=wait)
    if now < due:
        return None
    return _step(incident=incident, k=k, plan=plan, level=level, now=now, clock=due, target=plan.target(k))


def incident_escalate(*, incident: Incident, by, now: dt.datetime, reason: str = "") -> Incident:
    """Escalate now, by hand (staff), whatever the wait: the plan's next step, or one level up when it is used up.

    Allowed while open, acknowledged or investigating (a muted incident too: a person decided). The
    next step's wait counts from ``now``. Raises ValidationError (key ``status``) for a resolved,
    closed or merged incident, or when another process escalated it at the same moment. Returns the
    updated Incident.
    """
    if now is None or timezone.is_naive(now):
        raise ValidationError({"now": "an aware datetime is required"})
    current = Incident.objects.get(pk=incident.pk)
    if current.status not in Incident.OPEN_STATUSES or current.merged_into_id is not None:
        raise ValidationError({"status": f"a {current.status} incident cannot be escalated"})
    plan = plan_for_incident(incident=current, now=now)
    k = current.escalation_step
    level = plan.step(k)[1] if k < plan.total else _next_level_up(current.escalation_level)
    target = plan.target(k) if k < plan.total else LEVEL
    done = _step(
        incident=current,
        k=k,
        plan=plan,
        level=level,
        now=now,
        clock=now,
        by=by,
        allowed_statuses=Incident.OPEN_STATUSES,
        skip_locked=False,
        reason=reason or "by hand",
        target=target,
    )
    if done is None:
        raise ValidationError({"status": "the incident changed meanwhile; reload and try again"})
    return done


def alert_escalate_if_due(*, alert: AlertHistory, now: dt.datetime, _cache: dict | None = None) -> bool:
    """Mark a firing critical alert ``escalated`` once its first step's wait has passed; True if this call did.

    The wait counts from the alert's escalation clock (when the portal first saw it, or a silence
    released it), never from its ``startsAt``. An alert without an open incident notifies
    ``alert.escalated`` through routing; one with an open incident gets a line on its timeline (the
    incident escalates, and pages, by itself).
    """
    from alerts.notify import alert_notify
    from alerts.services import alert_escalate

    if alert.status != AlertHistory.Status.FIRING or alert.severity not in ("critical", "emergency"):
        return False
    plan = _plan_at(alert, now, _cache, critical_impact=False)
    clock = alert.escalation_clock_at or alert.created_at
    if now < clock + dt.timedelta(minutes=plan.step(0)[0]):
        return False
    with transaction.atomic():
        if not alert_escalate(alert=alert, now=now):
            return False
        minutes = (now - clock).total_seconds() / 60.0
        incident = (
            Incident.objects.filter(pk=alert.incident_id, status__in=Incident.OPEN_STATUSES).first()
            if alert.incident_id
            else None
        )
        if incident is not None:
            IncidentUpdate.objects.create(
                organization_id=alert.organization_id,
                incident_id=incident.pk,
                kind=IncidentUpdate.Kind.ESCALATION,
                vendor_visible=False,
                created_at=now,
                message=f'Alert "{alert.title}" unacknowledged for {minutes:.0f} min since the portal received it',
            )
        else:
            alert_notify(
                event="alert.escalated",
                alert=alert,
                now=now,
                extra={"escalation": {"unacknowledged_minutes": round(minutes, 1), "wedding_day": plan.wedding_day}},
            )
    return True


def escalations_run(*, now: dt.datetime, limit: int | None = None) -> dict:
    """The beat job: escalate every due open incident and firing critical alert at ``now``.

    Runs in a service context, one short transaction per step. At most ``limit`` (default
    ``ESCALATION_BATCH_LIMIT``) incidents and as many alerts are considered per run, the longest
    waiting first; muted incidents are not considered. Returns ``{"incidents": n escalated, "alerts": m
    escalated}``; steps another process took meanwhile are not counted.
    """
    limit = limit or conf.ESCALATION_BATCH_LIMIT
    counts = {"incidents": 0, "alerts": 0}
    cache: dict = {}
    with service_context():
        candidates = list(
            Incident.objects.filter(status="open", merged_into__isnull=True, muted_at__isnull=True).order_by(
                "detected_at", "id"
            )[:limit]
        )
    for incident in candidates:
        with service_context():
            if incident_escalate_if_due(incident=incident, now=now, _cache=cache) is not None:
                counts["incidents"] += 1
    with service_context():
        alerts = list(
            AlertHistory.objects.filter(status="firing", severity__in=["critical", "emergency"]).order_by(
                "starts_at", "id"
            )[:limit]
        )
    for alert in alerts:
        with service_context():
            if alert_escalate_if_due(alert=alert, now=now, _cache=cache):
                counts["alerts"] += 1
    return counts
