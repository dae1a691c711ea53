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
    "Matcher",
    "alert_label_set",
    "maintenance_active",
    "matchers_from_labels",
    "matchers_match",
    "parse_matchers",
    "rule_state",
    "silence_preview",
    "suppression_for",
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


class Muter:
    """What mutes alerts at one instant, with the rules (and inhibiting alerts) loaded once.

    ``Muter(organization_ids=…, at=…)`` reads the enabled rules in force at ``at`` of those
    organizations and the platform (one query) and, only if an inhibition rule is among them, the
    open unsuppressed alerts of those organizations that could inhibit (one more query);
    ``muting(alert)`` then decides in memory. ``suppression_for`` is a Muter of one alert. Runs in
    the caller's context (a service context sees every rule).
    """

    def __init__(self, *, organization_ids, at: dt.datetime):
        from alerts.models import AlertHistory, SuppressionRule

        orgs = {o for o in organization_ids if o is not None}
        self.at = at
        rules = (
            SuppressionRule.objects.filter(Q(organization__isnull=True) | Q(organization_id__in=orgs), enabled=True)
            .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at))
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
            .select_related("created_by")
            .order_by("kind", "created_at")
        )
        self.rules = []
        for rule in rules:
            try:
                rule.targets = parse_matchers(rule.matchers)
                rule.sources = (
                    parse_matchers(rule.source_matchers, field="source_matchers")
                    if rule.kind == SuppressionRule.Kind.INHIBITION
                    else []
                )
            except ValidationError:
                continue  # a rule saved around validation: never mutes
            self.rules.append(rule)
        self.sources: dict = {}
        if any(r.kind == SuppressionRule.Kind.INHIBITION for r in self.rules):
            open_states = [AlertHistory.Status.FIRING, AlertHistory.Status.ACKNOWLEDGED, AlertHistory.Status.ESCALATED]
            unassigned = Q(organization__isnull=True) if None in organization_ids else Q(pk=None)
            scope = Q(organization_id__in=orgs) | unassigned
            for source in AlertHistory.objects.filter(scope, status__in=open_states).select_related("organization"):
                self.sources.setdefault(source.organization_id, []).append((source, alert_label_set(source)))

    def forget(self, alert) -> None:
        """``alert`` was just muted: it no longer inhibits others."""
        rows = self.sources.get(alert.organization_id)
        if rows:
            self.sources[alert.organization_id] = [(s, labels) for s, labels in rows if s.pk != alert.pk]

    def muting(self, alert, labels: dict | None = None):
        """The rule that mutes ``alert`` and why: ``(rule, reason)`` or ``(None, "")`` (see ``suppression_for``)."""
        from alerts.models import SuppressionRule

        labels = labels if labels is not None else alert_label_set(alert)
        inhibitions = []
        for rule in self.rules:
            if rule.organization_id is not None and rule.organization_id != alert.organization_id:
                continue
            if not matchers_match(rule.targets, labels):
                continue
            if rule.kind == SuppressionRule.Kind.SILENCE:
                return rule, f"silenced by {rule} ({', '.join(map(str, rule.targets)) or 'all alerts'})"
            if rule.kind == SuppressionRule.Kind.MAINTENANCE and maintenance_active(rule, self.at):
                return rule, f"maintenance window {rule}"
            if rule.kind == SuppressionRule.Kind.INHIBITION:
                inhibitions.append(rule)
        for rule in inhibitions:
            equal = [str(name) for name in (rule.equal_labels or [])]
            for source, source_labels in self.sources.get(alert.organization_id, []):
                if source.pk == alert.pk or not matchers_match(rule.sources, source_labels):
                    continue
                if all(source_labels.get(n, "") == labels.get(n, "") for n in equal):
                    return rule, f"inhibited by {rule}: {source.title}"
        return None, ""


def suppression_for(*, alert, at: dt.datetime):
    """The rule that mutes ``alert`` at ``at`` and why: ``(rule, reason)`` or ``(None, "")``.

    Checked in order: active silences, maintenance windows open at ``at``, inhibition rules with an
    inhibiting alert (open, not suppressed, same organization, not ``alert`` itself, ``equal_labels``
    equal). Rules in scope: platform-wide ones and the alert's organization's. Runs in the caller's
    context (the evaluation's service context sees every rule). A ``Muter`` of one alert.
    """
    return Muter(organization_ids=[alert.organization_id], at=at).muting(alert)


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
