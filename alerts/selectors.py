"""Reads of alerts that several callers share. Row-level security applies as usual (the caller's context)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet

from alerts.models import AlertHistory, AlertRule, SuppressionRule


@dataclass(frozen=True)
class RuleEvaluationRow:
    """One (rule, organization, service, metric) of ``alert_rule_evaluation(at)``.

    ``value`` and ``threshold`` are in the metric's unit (``unit``, e.g.
    ``"ms"``, ``""`` when unknown); ``value`` None when an average has no
    points. ``threshold_reason`` says which threshold applied
    (``"standard threshold"``, ``"wedding season: 20% stricter"``,
    ``"wedding day: local Saturday 2026-06-13"`` …). ``buckets`` is the number
    of 1-minute buckets in ``[window_start, window_end)``.
    """

    rule_id: uuid.UUID
    organization_id: uuid.UUID
    organization_slug: str
    service: str
    metric_name: str
    aggregation: str
    comparison: str
    value: float | None
    threshold: float
    threshold_reason: str
    breaching: bool
    buckets: int
    window_start: dt.datetime
    window_end: dt.datetime
    unit: str


_ROW_COLUMNS = (
    "rule_id, organization_id, organization_slug, service, metric_name, aggregation, comparison,"
    " value, threshold, threshold_reason, breaching, buckets, window_start, window_end, unit"
)
EVALUATION_FUNCTIONS = {
    "threshold": "alert_rule_evaluation",
    "heartbeat": "alert_heartbeat_evaluation",
    "anomaly": "alert_anomaly_evaluation",
    "pattern_match": "alert_pattern_evaluation",
}


def rule_evaluation_rows_all(*, now: dt.datetime) -> list[RuleEvaluationRow]:
    """Rows of every SQL-evaluated rule type at ``now``: threshold, heartbeat, anomaly, then pattern_match.

    Each type has its set-based function with the same columns
    (``alerts/sql/functions/alert_*_evaluation.v*.sql``); see ``RuleEvaluationRow``.
    """
    rows: list[RuleEvaluationRow] = []
    with connection.cursor() as cur:
        for function in EVALUATION_FUNCTIONS.values():
            cur.execute(f"SELECT {_ROW_COLUMNS} FROM {function}(%s)", [now])
            rows.extend(RuleEvaluationRow(*row) for row in cur.fetchall())
    return rows


def rule_evaluation_rows(*, now: dt.datetime) -> list[RuleEvaluationRow]:
    """Evaluate every enabled threshold rule at ``now`` with the one SQL query ``alert_rule_evaluation``.

    See ``alerts/sql/functions/alert_rule_evaluation.v3.sql`` for the window, the
    aggregations and the choice of threshold. Returns the rows with data in
    the window, breaching or not, ordered by organization slug, rule,
    service. A vendor context evaluates its organization's rules only.
    """
    with connection.cursor() as cur:
        cur.execute(
            "SELECT rule_id, organization_id, organization_slug, service, metric_name, aggregation, comparison,"
            " value, threshold, threshold_reason, breaching, buckets, window_start, window_end, unit"
            " FROM alert_rule_evaluation(%s)",
            [now],
        )
        return [RuleEvaluationRow(*row) for row in cur.fetchall()]


def alert_open_get(*, organization_id: uuid.UUID | None, fingerprint: str) -> AlertHistory | None:
    """The open alert (firing, acknowledged, escalated, suppressed) of an identity, or None."""
    return AlertHistory.objects.filter(  # type: ignore[misc]  # None: IS NULL, which django-stubs does not model
        organization_id=organization_id, fingerprint=fingerprint, status__in=AlertHistory.OPEN_STATUSES
    ).first()


def alerts_open(*, organization_id: uuid.UUID | None = None, source: str | None = None) -> QuerySet[AlertHistory]:
    """Open alerts, newest first; filtered to one organization and/or one source when given."""
    qs = AlertHistory.objects.filter(status__in=AlertHistory.OPEN_STATUSES).select_related("organization", "rule")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if source is not None:
        qs = qs.filter(source=source)
    return qs.order_by("-starts_at")


def alerts_unassigned() -> QuerySet[AlertHistory]:
    """Alerts without organization (unknown ``organization`` label): staff and service contexts only."""
    return AlertHistory.objects.filter(organization__isnull=True).order_by("-starts_at")


def alert_rules_applicable(*, organization_id: uuid.UUID) -> QuerySet[AlertRule]:
    """The rules evaluated for an organization: its own and the platform-wide ones (visible in platform contexts)."""
    return AlertRule.objects.filter(Q(organization_id=organization_id) | Q(organization__isnull=True)).order_by("name")


def maintenance_windows_current(*, organization_id: uuid.UUID, now: dt.datetime) -> list[tuple[SuppressionRule, bool]]:
    """An organization's enabled maintenance windows that have not ended at ``now`` (aware).

    Returns ``[(rule, in_effect), …]`` ordered by ``starts_at`` then name; ``in_effect`` is True when the
    window has started and its weekly local time range covers ``now`` (``alerts.suppression.maintenance_active``).
    Reads in the caller's context (RLS applies).
    """
    from alerts.suppression import maintenance_active

    rules = (
        SuppressionRule.objects.filter(
            organization_id=organization_id, kind=SuppressionRule.Kind.MAINTENANCE, enabled=True
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("starts_at", "name")
    )
    return [
        (rule, (rule.starts_at is None or rule.starts_at <= now) and maintenance_active(rule, now)) for rule in rules
    ]
