"""Silences, maintenance windows and inhibition: Alertmanager's matchers and what they mute.

Matcher semantics follow Alertmanager (``pkg/labels/matcher.go``):

- a matcher is ``{"name": label, "op": op, "value": str}`` with ``op`` one of
  ``=``, ``!=``, ``=~``, ``!~``;
- regexes are anchored: ``=~ "api|web"`` is ``^(?:api|web)$``, so it does not
  match ``"api-2"``;
- a label the alert does not have has the value ``""``: ``env=""`` matches an
  alert without ``env``, ``env!="prod"`` too, and ``env=~".*"`` matches all;
- an alert is matched when every matcher matches (an empty list matches all).

Python's ``re`` stands in for Go's RE2: the patterns people write in
silences (alternation, classes, ``.*``) behave the same.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db.models import Q

OPS = ("=", "!=", "=~", "!~")
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Matcher:
    """One label matcher. ``value`` is a regex for ``=~``/``!~`` (anchored when compiled)."""

    name: str
    op: str
    value: str

    def matches(self, labels: dict) -> bool:
        """Whether ``labels`` (``{name: value}``) satisfy this matcher; a missing label is ``""``."""
        actual = str(labels.get(self.name, ""))
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _anchored(self.value).match(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self):
        return f'{self.name}{self.op}"{self.value}"'


@lru_cache(maxsize=1024)
def _anchored(pattern: str) -> re.Pattern:
    return re.compile(f"^(?:{pattern})$", re.DOTALL)


def parse_matchers(raw, *, field: str = "matchers") -> list[Matcher]:
    """Validate a JSON list of matchers and return them.

    Each item must be ``{"name": label name, "op": one of = != =~ !~,
    "value": str}``; a regex must compile. Raises ValidationError keyed by
    ``field`` naming the item and the reason, e.g. ``matchers[1].op``.
    """
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationError({field: f"must be a list of matchers, got {type(raw).__name__}"})
    result = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise ValidationError({field: f"{where}: must be an object with name, op and value"})
        name, op, value = item.get("name"), item.get("op", "="), item.get("value", "")
        if not isinstance(name, str) or not LABEL_NAME.match(name):
            raise ValidationError({field: f"{where}.name: must be a label name ([A-Za-z_][A-Za-z0-9_]*)"})
        if op not in OPS:
            raise ValidationError({field: f"{where}.op: must be one of {', '.join(OPS)}, got {op!r}"})
        if not isinstance(value, str):
            raise ValidationError({field: f"{where}.value: must be a string"})
        if op in ("=~", "!~"):
            try:
                _anchored(value)
            except re.error as exc:
                raise ValidationError({field: f"{where}.value: invalid regex ({exc})"}) from None
        result.append(Matcher(name=name, op=op, value=value))
    return result


def matchers_match(matchers: list[Matcher], labels: dict) -> bool:
    """All matchers match ``labels`` (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)


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
