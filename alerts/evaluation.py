"""Threshold rule evaluation: one set-based query, then fire and resolve alerts through the services.

Run every minute by the beat task ``alerts.tasks.evaluate_rules`` in a
service context. The SQL function ``alert_rule_evaluation(at)`` (migration
``alerts/0003``) does the work over ``apm_metric_aggregations``; this module
turns its rows into alert identities and lifecycle changes.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q

from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory, AlertRule
from alerts.selectors import RuleEvaluationRow, rule_evaluation_rows
from alerts.services import alert_fire, alert_resolve, require_aware

logger = logging.getLogger(__name__)

COMPARISON_SYMBOL = {AlertRule.Comparison.ABOVE: ">", AlertRule.Comparison.BELOW: "<"}


def format_number(value: float | None) -> str:
    """A human figure: ``812``, ``2400``, ``0.25``, ``12.3``; ``"n/a"`` for None."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def rule_alert_labels(*, rule: AlertRule, organization_slug: str, service: str) -> dict[str, str]:
    """The labels (hence the identity) of a rule's alert for one organization and service.

    ``{alertname: rule.name, rule_id, organization: slug, service, metric}``
    over the rule's own ``labels`` (the five identity labels win a clash);
    every value a string.
    """
    labels = {str(k): str(v) for k, v in (rule.labels or {}).items()}
    labels.update(
        alertname=rule.name,
        rule_id=str(rule.id),
        organization=organization_slug,
        service=service,
        metric=rule.metric_name,
    )
    return labels


def rule_alert_title(*, rule: AlertRule, row: RuleEvaluationRow) -> str:
    """E.g. ``"Checkout latency: payments checkout_ms p95 812 ms > 500 ms"``."""
    unit = f" {row.unit}" if row.unit else ""
    op = COMPARISON_SYMBOL.get(row.comparison, ">")
    return (
        f"{rule.name}: {row.service} {row.metric_name} {row.aggregation} "
        f"{format_number(row.value)}{unit} {op} {format_number(row.threshold)}{unit}"
    )


def _fire(*, rule: AlertRule, row: RuleEvaluationRow, labels: dict, fingerprint: str, now: dt.datetime) -> bool:
    title = rule_alert_title(rule=rule, row=row)
    description = (
        f"{row.aggregation} of {row.metric_name} on {row.service} over the {rule.window_minutes} min"
        f" to {row.window_end:%Y-%m-%d %H:%M} UTC ({row.buckets} one-minute buckets);"
        f" threshold {format_number(row.threshold)} ({row.threshold_reason})."
    )
    if rule.description:
        description = f"{rule.description}\n\n{description}"
    annotations = {"summary": title}
    if rule.runbook_url:
        annotations["runbook_url"] = rule.runbook_url
    _alert, created = alert_fire(
        organization_id=row.organization_id,
        fingerprint=fingerprint,
        source=AlertHistory.Source.RULE,
        title=title,
        labels=labels,
        annotations=annotations,
        severity=rule.severity,
        priority=rule.priority,
        starts_at=now,
        now=now,
        rule=rule,
        value=row.value,
        threshold=row.threshold,
        threshold_reason=row.threshold_reason,
        description=description,
    )
    return created


def rules_evaluate(*, now: dt.datetime) -> dict[str, int]:
    """Evaluate every enabled threshold rule at ``now``; fire breaches, resolve what cleared.

    Returns ``{"evaluated": rows with data, "breaching": n, "fired": new
    alerts, "resolved": alerts resolved, "errors": breaches that failed}``.

    Values come from ``alert_rule_evaluation(now)`` over the complete
    1-minute buckets of the rule's window: avg = sum(sum)/sum(count), count,
    sum, min, max; p50/p95/p99 are the *highest* 1-minute percentile in the
    window (bucket percentiles cannot be merged exactly). Thresholds: the
    ``wedding_day_threshold`` while the organization's wedding-day protocol
    is on (local Saturday or wedding day), else 20% stricter in the local
    wedding season (May..October) for rules with ``wedding_season_adjustment``
    on such a day, else ``threshold``; the reason is recorded on the alert.

    - Each breaching (rule, organization, service) fires through
      ``alerts.services.alert_fire`` with ``starts_at = now``, the applied
      threshold and its reason; an alert already open is only touched
      (``value``, ``last_received_at``). Identity: the fingerprint of
      ``rule_alert_labels``.
    - Open ``rule`` alerts of threshold rules (or of deleted rules) whose
      identity is not breaching now are resolved (``ends_at = now``); no
      data in the window counts as not breaching, and so does a disabled rule.
    - Each breach runs in its own savepoint: one failing breach is logged
      and counted in ``errors`` and does not stop the others (its open
      alert, if any, is not resolved either).

    Must run in a service context (all organizations); ``now`` an aware
    datetime. Raises ValidationError for a naive ``now``.
    """
    require_aware("now", now)
    with transaction.atomic():
        rows = rule_evaluation_rows(now=now)
        breaches = [row for row in rows if row.breaching]
        rules = AlertRule.objects.in_bulk({row.rule_id for row in breaches})
        breaching_identities: set[tuple] = set()
        fired = errors = 0
        for row in breaches:
            rule = rules.get(row.rule_id)
            if rule is None:  # deleted between the query and now
                continue
            labels = rule_alert_labels(rule=rule, organization_slug=row.organization_slug, service=row.service)
            fingerprint = labels_fingerprint(labels)
            breaching_identities.add((row.organization_id, fingerprint))
            try:
                with transaction.atomic():
                    fired += _fire(rule=rule, row=row, labels=labels, fingerprint=fingerprint, now=now)
            except Exception:
                errors += 1
                logger.exception(
                    "rule %s, organization %s, service %s: firing failed", rule.id, row.organization_slug, row.service
                )
        resolved = 0
        open_rule_alerts = AlertHistory.objects.filter(
            Q(rule__isnull=True) | Q(rule__alert_type=AlertRule.AlertType.THRESHOLD),
            source=AlertHistory.Source.RULE,
            status__in=AlertHistory.OPEN_STATUSES,
        )
        for alert in open_rule_alerts:
            if (alert.organization_id, alert.fingerprint) in breaching_identities:
                continue
            _alert, changed = alert_resolve(alert=alert, ends_at=now, now=now)
            resolved += changed
        return {
            "evaluated": len(rows),
            "breaching": len(breaches),
            "fired": fired,
            "resolved": resolved,
            "errors": errors,
        }
