"""Silences, maintenance windows and inhibition: what mutes an alert.

Matchers are Alertmanager's (``wedsync_ops.matchers``: anchored regexes, a
missing label is ``""``, every matcher must match).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.db.models import Q

from wedsync_ops.matchers import LABEL_NAME, Matcher, matchers_match, parse_matchers

__all__ = [
    "Matcher", "alert_label_set", "maintenance_active", "matchers_from_labels", "matchers_match", "parse_matchers",
    "rule_state", "silence_preview", "suppression_for",
]


def alert_label_set(alert) -> dict[str, str]:
    """The labels matchers see for an alert: its labels, plus ``severity``, ``priority`` and
    ``organization`` (slug) when the alert's labels do not carry them."""
    labels = {str(k): str(v) for k, v in (alert.labels or {}).items()}
    labels.setdefault("severity", str(alert.severity))
    labels.setdefault("priority", str(alert.priority))
    if alert.organization_id is not None and "organization" not in labels:
        org = getattr(alert, "organization", None)
        if org is not None:
            labels["organization"] = org.slug
    return labels


def maintenance_active(rule, at: dt.datetime) -> bool:
    """Whether a maintenance window's local weekday/time range covers ``at`` (aware).

    The window opens at ``start_time`` on each of ``weekdays`` (local to
    ``rule.timezone``) and closes at ``end_time`` the same day, or the next
    day when ``end_time <= start_time``.
    """
    if rule.start_time is None or rule.end_time is None or not rule.weekdays:
        return False
    tz = zoneinfo.ZoneInfo(rule.timezone or "UTC")
    local = at.astimezone(tz)
    days = {int(d) for d in rule.weekdays}
    now_t = local.time().replace(tzinfo=None)
    if rule.end_time > rule.start_time:
        return local.isoweekday() in days and rule.start_time <= now_t < rule.end_time
    # Overnight: the evening part belongs to today, the morning part to yesterday's window.
    if local.isoweekday() in days and now_t >= rule.start_time:
        return True
    yesterday = (local - dt.timedelta(days=1)).isoweekday()
    return yesterday in days and now_t < rule.end_time


def rule_state(rule, at: dt.datetime) -> str:
    """``pending``, ``active`` or ``expired`` at ``at`` (``SuppressionRule.State``).

    A silence: by ``[starts_at, ends_at)``. A maintenance window or an
    inhibition rule is active between its optional bounds (a maintenance
    window mutes only inside its weekly windows: ``maintenance_active``).
    A disabled rule is expired.
    """
    if not rule.enabled:
        return "expired"
    if rule.starts_at is not None and at < rule.starts_at:
        return "pending"
    if rule.ends_at is not None and at >= rule.ends_at:
        return "expired"
    return "active"


def _in_scope_q(organization_id) -> Q:
    if organization_id is None:
        return Q(organization__isnull=True)
    return Q(organization__isnull=True) | Q(organization_id=organization_id)


def suppression_for(*, alert, at: dt.datetime):
    """The rule that mutes ``alert`` at ``at`` and why: ``(rule, reason)`` or ``(None, "")``.

    Checked in order: active silences, maintenance windows open at ``at``,
    inhibition rules with an inhibiting alert (open, not suppressed, same
    organization, not ``alert`` itself, ``equal_labels`` equal). Rules in
    scope: platform-wide ones and the alert's organization's. Runs in the
    caller's context (the evaluation's service context sees every rule).
    """
    from alerts.models import AlertHistory, SuppressionRule

    labels = alert_label_set(alert)
    rules = (
        SuppressionRule.objects.filter(_in_scope_q(alert.organization_id), enabled=True)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .order_by("kind", "created_at")
    )
    inhibitions = []
    for rule in rules:
        try:
            targets = parse_matchers(rule.matchers)
        except ValidationError:
            continue  # a rule saved around validation: never mutes
        if not matchers_match(targets, labels):
            continue
        if rule.kind == SuppressionRule.Kind.SILENCE:
            return rule, f"silenced by {rule} ({', '.join(map(str, targets)) or 'all alerts'})"
        if rule.kind == SuppressionRule.Kind.MAINTENANCE and maintenance_active(rule, at):
            return rule, f"maintenance window {rule}"
        if rule.kind == SuppressionRule.Kind.INHIBITION:
            inhibitions.append(rule)
    if not inhibitions:
        return None, ""
    sources = list(
        AlertHistory.objects.filter(
            organization_id=alert.organization_id,
            status__in=[AlertHistory.Status.FIRING, AlertHistory.Status.ACKNOWLEDGED, AlertHistory.Status.ESCALATED],
        )
        .exclude(pk=alert.pk)
        .select_related("organization")
    )
    for rule in inhibitions:
        try:
            source_matchers = parse_matchers(rule.source_matchers, field="source_matchers")
        except ValidationError:
            continue
        equal = [str(name) for name in (rule.equal_labels or [])]
        for source in sources:
            source_labels = alert_label_set(source)
            if not matchers_match(source_matchers, source_labels):
                continue
            if all(source_labels.get(n, "") == labels.get(n, "") for n in equal):
                return rule, f"inhibited by {rule}: {source.title}"
    return None, ""


def silence_preview(*, matchers: list[Matcher], organization_id=None, limit: int = 50) -> list:
    """Open alerts a silence with ``matchers`` (scoped to ``organization_id``, None = all) would match.

    Returns at most ``limit`` ``AlertHistory`` rows, newest first. Runs in
    the caller's context (staff see every organization).
    """
    from alerts.models import AlertHistory

    qs = AlertHistory.objects.filter(status__in=AlertHistory.OPEN_STATUSES).select_related("organization")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    found = []
    for alert in qs.order_by("-starts_at").iterator(chunk_size=500):
        if matchers_match(matchers, alert_label_set(alert)):
            found.append(alert)
            if len(found) >= limit:
                break
    return found


def matchers_from_labels(labels: dict, *, names: tuple[str, ...] | None = None) -> list[dict]:
    """Equality matchers for a "silence this" form: one per label (or per ``names`` present), sorted."""
    chosen = sorted(labels) if names is None else [n for n in names if n in labels]
    return [{"name": name, "op": "=", "value": str(labels[name])} for name in chosen if LABEL_NAME.match(name)]
