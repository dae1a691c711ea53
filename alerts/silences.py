"""Silences, maintenance windows and inhibition rules: create, expire, and apply them to open alerts.

Alertmanager's meaning: a silence applies at once to the alerts already firing, not only to new ones.
``suppressions_apply`` brings every open alert in line with the rules in force (every minute, and
whenever a rule is created or expired): a muted alert stops notifying, repeating and escalating (its
pending notifications are cancelled); an incident whose open alerts are all muted stops escalating
(``incidents.services.incident_alerts_changed`` writes "muted by silence …" on its timeline); when the
rule expires and the alert still fires, notifications and escalation resume, the escalation step's wait
counted from then.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from alerts.models import AlertHistory, SuppressionRule
from alerts.notify import alert_notifications_cancel, alert_notify
from alerts.services import alert_opens_incident, require_aware
from alerts.suppression import Muter, parse_matchers
from incidents.services import incident_alerts_changed, incident_open_from_alert
from wedsync_ops.tenancy.context import service_context


def suppression_rule_create(
    *,
    kind: str,
    matchers: list,
    now: dt.datetime,
    organization_id: uuid.UUID | None = None,
    name: str = "",
    comment: str = "",
    created_by=None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    weekdays: list | None = None,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    timezone_name: str = "UTC",
    source_matchers: list | None = None,
    equal_labels: list | None = None,
    created_by_name: str = "",
) -> SuppressionRule:
    """Validate and create a silence, maintenance window or inhibition rule, then apply it at ``now``.

    ``kind``: ``SuppressionRule.Kind``. ``matchers``/``source_matchers``:
    lists of ``{"name", "op", "value"}`` (``alerts.suppression.parse_matchers``).
    A silence needs aware ``starts_at < ends_at``; a maintenance window
    ``weekdays`` (ISO 1..7), ``start_time``, ``end_time`` and an IANA
    ``timezone_name``; an inhibition rule non-empty ``source_matchers`` and
    ``matchers``, ``equal_labels`` a list of label names. Everything is
    validated before anything is written; raises ValidationError keyed by
    the field. Open firing alerts it mutes become ``suppressed`` at once
    (``suppressions_apply``).
    """
    rule = suppression_rule_validate(
        SuppressionRule(
            kind=kind,
            matchers=matchers,
            organization_id=organization_id,
            name=name[:200],
            comment=comment,
            created_by=created_by if getattr(created_by, "pk", None) else None,
            created_by_name="" if getattr(created_by, "pk", None) else created_by_name[:200],
            starts_at=starts_at,
            ends_at=ends_at,
            weekdays=list(weekdays or []),
            start_time=start_time,
            end_time=end_time,
            timezone=timezone_name,
            source_matchers=list(source_matchers or []),
            equal_labels=list(equal_labels or []),
        )
    )
    with transaction.atomic():
        rule.save()
        suppressions_apply(now=now)
    return rule


def suppression_rule_validate(rule: SuppressionRule) -> SuppressionRule:
    """Check a (possibly unsaved) rule; returns it or raises ValidationError keyed by field (admin and services)."""
    if rule.kind not in SuppressionRule.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(SuppressionRule.Kind.values)}"})
    parse_matchers(rule.matchers, field="matchers")
    if rule.kind == SuppressionRule.Kind.SILENCE:
        if rule.starts_at is None or rule.ends_at is None:
            raise ValidationError({"ends_at": "a silence needs starts_at and ends_at"})
        require_aware("starts_at", rule.starts_at)
        require_aware("ends_at", rule.ends_at)
        if rule.ends_at <= rule.starts_at:
            raise ValidationError({"ends_at": "must be after starts_at"})
        if not rule.matchers:
            raise ValidationError({"matchers": "a silence needs at least one matcher"})
    elif rule.kind == SuppressionRule.Kind.MAINTENANCE:
        days = rule.weekdays
        if (
            not isinstance(days, list)
            or not days
            or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in days)
        ):
            raise ValidationError({"weekdays": "a non-empty list of ISO weekdays, 1 = Monday … 7 = Sunday"})
        if rule.start_time is None or rule.end_time is None:
            raise ValidationError({"start_time": "a maintenance window needs start_time and end_time"})
        try:
            zoneinfo.ZoneInfo(rule.timezone or "")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": f"unknown time zone {rule.timezone!r}"}) from None
    else:
        if not rule.source_matchers:
            raise ValidationError({"source_matchers": "an inhibition rule needs source matchers"})
        parse_matchers(rule.source_matchers, field="source_matchers")
        if not rule.matchers:
            raise ValidationError({"matchers": "an inhibition rule needs target matchers"})
        if not isinstance(rule.equal_labels, list) or not all(isinstance(n, str) for n in rule.equal_labels):
            raise ValidationError({"equal_labels": "a list of label names"})
    return rule


def silence_expire(*, silence: SuppressionRule, now: dt.datetime) -> SuppressionRule:
    """Expire a silence at ``now`` (``ends_at = now``) and release what it muted; returns it.

    A silence already expired is left as it is. Raises ValidationError (key ``kind``) for a rule that
    is not a silence (maintenance windows and inhibition rules are disabled instead).
    """
    require_aware("now", now)
    if silence.kind != SuppressionRule.Kind.SILENCE:
        raise ValidationError({"kind": "only a silence can be expired; disable other rules"})
    with transaction.atomic():
        updated = SuppressionRule.objects.filter(pk=silence.pk).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        if updated.filter(starts_at__gt=now).exists():  # a pending silence expires before it starts
            updated.update(starts_at=now, ends_at=now, updated_at=now)
        else:
            updated.update(ends_at=now, updated_at=now)
        silence.refresh_from_db()
        suppressions_apply(now=now)
    return silence


def suppression_rule_disable(*, rule: SuppressionRule, now: dt.datetime) -> SuppressionRule:
    """Disable a maintenance window or inhibition rule at ``now`` (``enabled = False``) and release what it
    muted; returns it (a silence is expired instead: ``silence_expire``). Already disabled: unchanged."""
    require_aware("now", now)
    if rule.kind == SuppressionRule.Kind.SILENCE:
        return silence_expire(silence=rule, now=now)
    with transaction.atomic():
        SuppressionRule.objects.filter(pk=rule.pk, enabled=True).update(enabled=False, updated_at=now)
        rule.refresh_from_db()
        suppressions_apply(now=now)
    return rule


def _mute_reason(rule: SuppressionRule, reason: str) -> str:
    until = f", until {rule.ends_at:%Y-%m-%d %H:%M} UTC" if rule.ends_at else ""
    comment = f", {rule.comment.strip()[:120]!r}" if (rule.comment or "").strip() else ""
    return f"{reason[:200]} ({rule.author}{comment}{until})"


def suppressions_apply(*, now: dt.datetime) -> dict[str, int]:
    """Bring open alerts in line with the rules in force at ``now``; returns ``{"suppressed": n, "released": m}``.

    - A ``firing`` or ``escalated`` alert that a rule mutes becomes ``suppressed`` (``suppressed_by``,
      ``suppression_reason``: the rule, its author, comment and end), and its notifications not yet
      sent are cancelled. An acknowledged alert is being worked on and stays acknowledged.
    - A ``suppressed`` alert that nothing mutes any more (the silence expired, the window closed, the
      inhibiting alert resolved) is released: ``firing`` again with its escalation clock restarted at
      ``now``; its ``alert.firing`` notification goes out if nobody got it before (cancelled or never
      written), and it opens or joins its incident when ``alert_fire`` would have.
    - A ``flapping`` firing alert that has stayed open ``FLAP_WINDOW_S`` is released the same way
      (``flapping`` False, notified, and its incident opened or joined like any critical alert).
    - Every incident with an alert that changed is told (``incident_alerts_changed``): it is muted
      when all its open alerts are muted, and resumes escalating when one fires again.

    Runs in a service context whatever the caller's (a vendor's context cannot see platform-wide
    silences, and must not release what they mute), in one transaction.
    """
    from alerts import conf

    require_aware("now", now)
    counts = {"suppressed": 0, "released": 0}
    touched_incidents: dict = {}
    with service_context(), transaction.atomic():
        stable_since = now - dt.timedelta(seconds=conf.FLAP_WINDOW_S)
        steady = AlertHistory.objects.filter(
            flapping=True, status=AlertHistory.Status.FIRING, starts_at__lte=stable_since
        ).select_for_update(skip_locked=True)
        for alert in steady:
            AlertHistory.objects.filter(pk=alert.pk).update(
                flapping=False, suppression_reason="", escalation_clock_at=now
            )
            alert.flapping, alert.suppression_reason, alert.escalation_clock_at = False, "", now
            alert_notify(event="alert.firing", alert=alert, now=now)
            if alert.incident_id is None and alert_opens_incident(alert=alert, now=now):
                incident_open_from_alert(alert=alert, now=now)
            counts["released"] += 1
        muteable = [AlertHistory.Status.FIRING, AlertHistory.Status.ESCALATED]
        candidates = AlertHistory.objects.filter(status__in=[*muteable, AlertHistory.Status.SUPPRESSED]).select_related(
            "organization"
        )
        has_rules = SuppressionRule.objects.filter(enabled=True).exists()
        locked = list(candidates.select_for_update(of=("self",), skip_locked=True))
        if not has_rules:
            locked = [a for a in locked if a.status == AlertHistory.Status.SUPPRESSED]
        muter = Muter(organization_ids={a.organization_id for a in locked}, at=now)
        for alert in locked:
            rule, reason = muter.muting(alert)
            if alert.status in muteable and rule is not None:
                text = _mute_reason(rule, reason)
                AlertHistory.objects.filter(pk=alert.pk).update(
                    status=AlertHistory.Status.SUPPRESSED, suppressed_by=rule, suppression_reason=text[:300]
                )
                alert_notifications_cancel(alert=alert, reason=f"muted: {text}"[:500], now=now)
                muter.forget(alert)
                counts["suppressed"] += 1
                if alert.incident_id:
                    touched_incidents.setdefault(alert.incident_id, rule)
            elif alert.status == AlertHistory.Status.SUPPRESSED and rule is None:
                alert.status = AlertHistory.Status.FIRING
                alert.suppressed_by = None
                alert.suppression_reason = ""
                alert.escalation_clock_at = now
                AlertHistory.objects.filter(pk=alert.pk).update(
                    status=alert.status, suppressed_by=None, suppression_reason="", escalation_clock_at=now
                )
                alert_notify(event="alert.firing", alert=alert, now=now, renotify=("cancelled",))
                if alert.incident_id is None and alert_opens_incident(alert=alert, now=now):
                    incident_open_from_alert(alert=alert, now=now)
                elif alert.incident_id:
                    touched_incidents.setdefault(alert.incident_id, None)
                counts["released"] += 1
            elif alert.status == AlertHistory.Status.SUPPRESSED and rule.pk != alert.suppressed_by_id:
                AlertHistory.objects.filter(pk=alert.pk).update(  # another rule mutes it now
                    suppressed_by=rule, suppression_reason=_mute_reason(rule, reason)[:300]
                )
        for incident_id, rule in touched_incidents.items():
            incident_alerts_changed(incident_id=incident_id, now=now, mute_rule=rule)
    return counts


def silence_create(
    *,
    matchers: list,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    comment: str,
    now: dt.datetime,
    organization_id: uuid.UUID | None = None,
    created_by=None,
    created_by_name: str = "",
) -> SuppressionRule:
    """Validate and create a silence (Alertmanager's: matchers over ``[starts_at, ends_at)``), applied at once.

    ``matchers``: ``[{"name", "op", "value"}]``; ``created_by``: the portal user, or ``created_by_name``
    for a caller that is not one (Alertmanager API v2's ``createdBy``). The name is the matchers' text.
    Open alerts it matches are muted from ``now`` (``suppressions_apply``). Raises ValidationError
    keyed by field (``matchers``, ``starts_at``, ``ends_at``, ``comment``) before anything is written.
    """
    from wedsync_ops.matchers import matchers_text

    if not (comment or "").strip():
        raise ValidationError({"comment": "a silence needs a comment saying why"})
    rule = suppression_rule_create(
        kind=SuppressionRule.Kind.SILENCE,
        matchers=matchers,
        now=now,
        organization_id=organization_id,
        name=matchers_text(matchers)[:200],
        comment=comment.strip(),
        created_by=created_by,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by_name=created_by_name,
    )
    return rule


def silence_update(
    *,
    silence: SuppressionRule,
    matchers: list,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    comment: str,
    now: dt.datetime,
    created_by=None,
    created_by_name: str = "",
) -> SuppressionRule:
    """Change a silence as Alertmanager does; returns the silence now in force (maybe a new one).

    Same matchers and not expired: updated in place (times and comment). Otherwise (other matchers,
    or an expired silence) the old one expires at ``now`` and a new silence is created, so what
    muted what stays on record. Validated like ``silence_create``.
    """
    from alerts.suppression import rule_state
    from wedsync_ops.matchers import matchers_text

    parse_matchers(matchers, field="matchers")
    same = [dict(m, op=m.get("op", "=")) for m in matchers] == [dict(m, op=m.get("op", "=")) for m in silence.matchers]
    if same and rule_state(silence, now) != SuppressionRule.State.EXPIRED:
        candidate = SuppressionRule(
            kind=SuppressionRule.Kind.SILENCE,
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            organization_id=silence.organization_id,
        )
        suppression_rule_validate(candidate)
        if not (comment or "").strip():
            raise ValidationError({"comment": "a silence needs a comment saying why"})
        with transaction.atomic():
            SuppressionRule.objects.filter(pk=silence.pk).update(
                starts_at=starts_at,
                ends_at=ends_at,
                comment=comment.strip(),
                updated_at=now,
                name=matchers_text(matchers)[:200],
            )
            silence.refresh_from_db()
            suppressions_apply(now=now)
        return silence
    with transaction.atomic():
        replacement = silence_create(
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            comment=comment,
            now=now,
            organization_id=silence.organization_id,
            created_by=created_by,
            created_by_name=created_by_name,
        )
        if rule_state(silence, now) != SuppressionRule.State.EXPIRED:
            silence_expire(silence=silence, now=now)
    return replacement
