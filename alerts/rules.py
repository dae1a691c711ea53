"""Alert rules: validate and write (``alert_configurations``), for the API, the vendor pages and the admin.

Every function runs in the caller's tenant context: row-level security refuses another organization's
row, and a platform rule (organization NULL) is writable by staff only.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q

from alerts.models import AlertRule

RULE_EDITABLE_FIELDS = (
    "name",
    "description",
    "alert_type",
    "service",
    "metric_name",
    "aggregation",
    "comparison",
    "threshold",
    "wedding_day_threshold",
    "wedding_season_adjustment",
    "window_minutes",
    "for_seconds",
    "wedding_day_for_seconds",
    "min_samples",
    "baseline_weeks",
    "composite_operator",
    "composite_rule_ids",
    "pattern",
    "severity",
    "priority",
    "labels",
    "runbook_url",
    "enabled",
)


def _pattern_validate(rule: AlertRule) -> None:
    """A pattern_match rule needs a PostgreSQL regular expression that compiles, and a threshold of at least 1.

    The expression is compiled by PostgreSQL itself (its syntax is not
    Python's), inside a savepoint so a bad one leaves the transaction usable.
    Raises ValidationError keyed ``pattern`` or ``threshold``.
    """
    if not rule.pattern:
        raise ValidationError({"pattern": "required for a pattern_match rule, e.g. (payment|stripe).*timeout"})
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT '' ~* %s", [rule.pattern])
    except DatabaseError as exc:
        reason = str(exc).splitlines()[0]
        raise ValidationError({"pattern": f"not a valid regular expression: {reason}"}) from None
    if rule.threshold is None or rule.threshold < 1:
        raise ValidationError({"threshold": "the number of matching errors that fires it: at least 1"})


def _rule_validate(rule: AlertRule) -> None:
    """Model validation plus the rule-type rules; raises ValidationError keyed by field."""
    if rule.alert_type == AlertRule.AlertType.PATTERN_MATCH and not rule.metric_name:
        rule.metric_name = "error_reports"  # what a pattern rule counts
    rule.full_clean(exclude=["organization"])
    if rule.alert_type == AlertRule.AlertType.PATTERN_MATCH:
        _pattern_validate(rule)
    if rule.alert_type != AlertRule.AlertType.COMPOSITE and not rule.metric_name:
        raise ValidationError({"metric_name": "required for this rule type"})
    if not 1 <= rule.window_minutes <= 1440:
        raise ValidationError({"window_minutes": "between 1 and 1440 minutes"})
    if rule.min_samples is None or rule.min_samples < 1:
        raise ValidationError({"min_samples": "at least 1 point in the window"})
    if rule.alert_type == AlertRule.AlertType.COMPOSITE:
        ids = rule.composite_rule_ids
        if not isinstance(ids, list) or not ids:
            raise ValidationError({"composite_rule_ids": "a non-empty list of rule ids"})
        try:
            wanted = {uuid.UUID(str(i)) for i in ids}
        except ValueError:
            raise ValidationError({"composite_rule_ids": "every item must be a rule id (UUID)"}) from None
        if rule.pk in wanted:
            raise ValidationError({"composite_rule_ids": "a composite rule cannot contain itself"})
        visible = AlertRule.objects.filter(pk__in=wanted).filter(
            Q(organization__isnull=True) | Q(organization_id=rule.organization_id)
        )
        if visible.count() != len(wanted):
            raise ValidationError({"composite_rule_ids": "unknown rule id, or a rule of another organization"})
    if not isinstance(rule.labels, dict) or not all(isinstance(v, str) for v in rule.labels.values()):
        raise ValidationError({"labels": "an object of string values"})


def alert_rule_create(*, organization_id: uuid.UUID | None, **fields) -> AlertRule:
    """Validate and create a rule of ``organization_id`` (None: platform-wide, staff only by policy).

    ``fields``: any of ``RULE_EDITABLE_FIELDS``. Raises ValidationError keyed
    by field before anything is written. Runs in the caller's context
    (row-level security refuses another organization's row).
    """
    unknown = set(fields) - set(RULE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "not an editable field"})
    rule = AlertRule(organization_id=organization_id, **fields)
    _rule_validate(rule)
    rule.save()
    return rule


def alert_rule_update(*, rule: AlertRule, **fields) -> AlertRule:
    """Validate and apply ``fields`` (of ``RULE_EDITABLE_FIELDS``) to ``rule``; the organization never changes."""
    unknown = set(fields) - set(RULE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "not an editable field"})
    for name, value in fields.items():
        setattr(rule, name, value)
    _rule_validate(rule)
    rule.save()
    return rule
