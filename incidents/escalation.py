"""Escalation: page people while an incident (or a critical alert) stays unacknowledged.

Model (DESIGN.md "Wedding-day rules", issue 5 section 3):

- The applicable plan of an incident's organization at ``now``: while its
  wedding-day protocol is on (local wedding day or local Saturday, or the
  incident is ``wedding_day_critical``), the first enabled of: the
  organization's wedding-day policy, the platform's wedding-day policy, then
  the ordinary ones; otherwise the organization's ordinary policy, then the
  platform default. Without any policy: one step to ``team_lead`` after
  ``ESCALATION_DEFAULT_WAIT_MINUTES`` (``ESCALATION_WEDDING_DAY_WAIT_MINUTES``
  on a wedding day).
- A plan's steps run in order, ``repeat_count`` times: step ``k`` (0-based
  over all rounds) is due ``wait_minutes`` after the previous step
  (``last_escalated_at``) or, for the first, after ``detected_at``.
- Only ``open`` incidents escalate: acknowledging (or investigating,
  resolving, closing, merging) stops it; reopening starts over.
- Each step happens exactly once, even with several beat or worker
  processes: it is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` on
  ``id = %s AND status = 'open' AND escalation_step = k`` and the step
  counter is raised in the same transaction, so a concurrent beat skips the
  row while it is claimed and finds ``escalation_step = k + 1`` afterwards.
- Paging: the step's contacts are the active contacts at the step's level,
  of the incident's organization and the platform's, within their active
  hours (local time in the contact's ``timezone``); while the wedding-day
  protocol is on every wedding-day emergency contact is paged as well,
  whatever the hour. The step writes an internal ``escalation`` timeline row
  naming them, raises ``incidents.escalation_level``, and enqueues
  ``incident.escalated`` notifications to the organization's and platform's
  channels whose payload lists the contacts (see ``incidents.notify``): the
  pager behind the channel pages them.
- Critical alerts (severity critical or emergency) still ``firing`` past the
  first step's wait after ``starts_at`` become ``escalated`` (conditional
  UPDATE on ``status = 'firing'``) and enqueue ``alert.escalated``; an
  alert linked to an incident also gets a line in that incident's timeline.
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

from . import conf
from .models import EscalationContact, EscalationPolicy, Incident, IncidentUpdate
from .notify import outbox_write

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

    @property
    def total(self) -> int:
        return len(self.steps) * self.repeat_count

    def step(self, k: int) -> tuple[int, str]:
        """``(wait_minutes, level)`` of step ``k`` (0-based over all rounds)."""
        return self.steps[k % len(self.steps)]


def wedding_day_on(*, organization_id, at: dt.datetime) -> bool:
    """The organization's wedding-day protocol at ``at`` (False for platform-wide incidents)."""
    if organization_id is None:
        return False
    from alerts.services import wedding_day_protocol_active

    active, _reason = wedding_day_protocol_active(organization_id=organization_id, at=at)
    return bool(active)


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
                steps = tuple((s.wait_minutes, s.level) for s in sorted(policy.steps.all(), key=lambda s: s.position))
                if steps:
                    return EscalationPlan(
                        name=policy.name,
                        wedding_day=wedding_day,
                        steps=steps,
                        repeat_count=policy.repeat_count,
                        policy_id=policy.pk,
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


def _step(
    *,
    incident: Incident,
    k: int,
    plan: EscalationPlan,
    level: str,
    now: dt.datetime,
    by=None,
    allowed_statuses=("open",),
    reason: str = "",
    skip_locked: bool = True,
) -> Incident | None:
    """Claim and take step ``k``: returns the incident, or None when another process took it (or it stopped).

    The claim locks the row only while it still is at step ``k`` and in an
    allowed status (``SELECT … FOR UPDATE``; PostgreSQL re-checks the
    conditions on the latest row version after waiting). ``skip_locked``
    (the beat): a row locked by another worker is skipped at once, so two
    workers share the due incidents instead of queueing behind each other;
    a step skipped that way is either taken by the other worker or retried
    at the next beat. Manual escalation waits instead.
    """
    with transaction.atomic():
        claim = Incident.objects.select_for_update(skip_locked=skip_locked).filter(
            pk=incident.pk, status__in=allowed_statuses, escalation_step=k, merged_into__isnull=True
        )
        if claim.values_list("pk", flat=True).first() is None:
            return None
        Incident.objects.filter(pk=incident.pk).update(
            escalation_step=k + 1, last_escalated_at=now, escalation_level=level, updated_at=now
        )
        fresh = Incident.objects.select_related("organization", "wedding").get(pk=incident.pk)
        contacts = contacts_to_page(
            organization_id=fresh.organization_id, level=level, wedding_day=plan.wedding_day, at=now
        )
        who = (
            "; ".join(
                f"{c.name} ({', '.join(x for x in (c.email, c.phone, c.slack) if x) or 'no address'})"
                + (" [wedding-day emergency]" if c.wedding_day_emergency and plan.wedding_day else "")
                for c in contacts
            )
            or "no contact on duty at this level"
        )
        total = max(plan.total, k + 1)
        by_text = f" by {by.get_username()}" if getattr(by, "pk", None) else ""
        IncidentUpdate.objects.create(
            organization_id=fresh.organization_id,
            incident=fresh,
            kind=IncidentUpdate.Kind.ESCALATION,
            author=by if getattr(by, "pk", None) else None,
            vendor_visible=False,
            created_at=now,
            message=(
                f"Escalated to {level}{by_text} (step {k + 1} of {total}, policy '{plan.name}'"
                f"{', wedding day' if plan.wedding_day else ''}){': ' + reason if reason else ''}. Paged: {who}"
            ),
        )
        outbox_write(
            event="incident.escalated",
            stored_event=f"incident.escalated.{k + 1}",
            incident=fresh,
            now=now,
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
    return fresh


def _plan_at(incident_or_alert, now: dt.datetime, cache: dict | None, *, critical_impact: bool) -> EscalationPlan:
    """The plan for an incident or alert at ``now``; ``cache`` (per beat run) memoises per organization."""
    cache = {} if cache is None else cache
    org_id = incident_or_alert.organization_id
    key = ("wd", org_id)
    if key not in cache:
        cache[key] = wedding_day_on(organization_id=org_id, at=now)
    wedding_day = critical_impact or cache[key]
    plan_key = ("plan", org_id, wedding_day)
    if plan_key not in cache:
        cache[plan_key] = escalation_plan_for(organization_id=org_id, wedding_day=wedding_day)
    return cache[plan_key]


def incident_escalate_if_due(*, incident: Incident, now: dt.datetime, _cache: dict | None = None) -> Incident | None:
    """Take the incident's next escalation step if it is due at ``now``; returns it, or None (not due/claimed).

    Plan and wedding-day decision: see the module docstring (``wedding_day_critical`` incidents always use
    the wedding-day variant).
    """
    if incident.status != "open" or incident.merged_into_id is not None:
        return None
    plan = _plan_at(incident, now, _cache, critical_impact=incident.wedding_impact == "wedding_day_critical")
    k = incident.escalation_step
    if k >= plan.total:
        return None
    wait, level = plan.step(k)
    since = incident.last_escalated_at or incident.detected_at
    if now < since + dt.timedelta(minutes=wait):
        return None
    return _step(incident=incident, k=k, plan=plan, level=level, now=now)


def incident_escalate(*, incident: Incident, by, now: dt.datetime, reason: str = "") -> Incident:
    """Escalate now, by hand (staff), whatever the wait: the plan's next step, or one level up when it is used up.

    Allowed while open, acknowledged or investigating. Raises
    ValidationError (key ``status``) for a resolved, closed or merged
    incident, or when another process escalated it at the same moment.
    Returns the updated Incident.
    """
    if now is None or timezone.is_naive(now):
        raise ValidationError({"now": "an aware datetime is required"})
    current = Incident.objects.get(pk=incident.pk)
    if current.status not in Incident.OPEN_STATUSES or current.merged_into_id is not None:
        raise ValidationError({"status": f"a {current.status} incident cannot be escalated"})
    wedding_day = current.wedding_impact == "wedding_day_critical" or wedding_day_on(
        organization_id=current.organization_id, at=now
    )
    plan = escalation_plan_for(organization_id=current.organization_id, wedding_day=wedding_day)
    k = current.escalation_step
    level = plan.step(k)[1] if k < plan.total else _next_level_up(current.escalation_level)
    done = _step(
        incident=current,
        k=k,
        plan=plan,
        level=level,
        now=now,
        by=by,
        allowed_statuses=Incident.OPEN_STATUSES,
        skip_locked=False,
        reason=reason or "by hand",
    )
    if done is None:
        raise ValidationError({"status": "the incident changed meanwhile; reload and try again"})
    return done


def alert_escalate_if_due(*, alert: AlertHistory, now: dt.datetime, _cache: dict | None = None) -> bool:
    """Mark a firing critical alert ``escalated`` once its first step's wait has passed; True if this call did."""
    if alert.status != AlertHistory.Status.FIRING or alert.severity not in ("critical", "emergency"):
        return False
    plan = _plan_at(alert, now, _cache, critical_impact=False)
    wedding_day = plan.wedding_day
    if now < alert.starts_at + dt.timedelta(minutes=plan.step(0)[0]):
        return False
    with transaction.atomic():
        if (
            AlertHistory.objects.filter(pk=alert.pk, status=AlertHistory.Status.FIRING).update(
                status=AlertHistory.Status.ESCALATED
            )
            != 1
        ):
            return False
        alert.status = AlertHistory.Status.ESCALATED
        minutes = (now - alert.starts_at).total_seconds() / 60.0
        if alert.incident_id is not None:
            IncidentUpdate.objects.create(
                organization_id=alert.organization_id,
                incident_id=alert.incident_id,
                kind=IncidentUpdate.Kind.ESCALATION,
                vendor_visible=False,
                created_at=now,
                message=f'Alert "{alert.title}" unacknowledged for {minutes:.0f} min: escalated',
            )
        outbox_write(
            event="alert.escalated",
            alert=alert,
            now=now,
            extra={"escalation": {"unacknowledged_minutes": round(minutes, 1), "wedding_day": wedding_day}},
        )
    return True


def escalations_run(*, now: dt.datetime, limit: int | None = None) -> dict:
    """The beat job: escalate every due open incident and firing critical alert at ``now``.

    Runs in a service context, one short transaction per step. At most
    ``limit`` (default ``ESCALATION_BATCH_LIMIT``) incidents and as many
    alerts are considered per run, the longest waiting first. Returns
    ``{"incidents": n escalated, "alerts": m escalated}``; steps another
    process took meanwhile are not counted.
    """
    limit = limit or conf.ESCALATION_BATCH_LIMIT
    counts = {"incidents": 0, "alerts": 0}
    cache: dict = {}
    with service_context():
        candidates = list(
            Incident.objects.filter(status="open", merged_into__isnull=True).order_by("detected_at", "id")[:limit]
        )
    for incident in candidates:
        with service_context():
            if incident_escalate_if_due(incident=incident, now=now, _cache=cache) is not None:
                counts["incidents"] += 1
    with service_context():
        alerts = list(
            AlertHistory.objects.filter(
                status="firing", severity__in=["critical", "emergency"], starts_at__lte=now
            ).order_by("starts_at", "id")[:limit]
        )
    for alert in alerts:
        with service_context():
            if alert_escalate_if_due(alert=alert, now=now, _cache=cache):
                counts["alerts"] += 1
    return counts
