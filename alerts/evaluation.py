"""Threshold rule evaluation: one set-based query, then fire and resolve alerts through the services.

Run every minute by the beat task ``alerts.tasks.evaluate_rules`` in a
service context. The SQL function ``alert_rule_evaluation(at)``
(``alerts/sql/functions/alert_rule_evaluation.v3.sql``) does the work over ``apm_metric_aggregations``; this module
turns its rows into alert identities and lifecycle changes.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import Q

from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory, AlertRule, AlertRulePending
from alerts.selectors import RuleEvaluationRow, rule_evaluation_rows_all
from alerts.services import alert_fire, alert_resolve, require_aware
from wedsync_ops.tenancy.models import Organization

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


def rule_group_key(*, rule: AlertRule, organization_slug: str) -> str:
    """Alertmanager's group key for ``group_by: [alertname, organization]``: ``{}:{alertname="…",organization="…"}``."""
    name = rule.name.replace("\\", "\\\\").replace('"', '\\"')
    return f'{{}}:{{alertname="{name}",organization="{organization_slug}"}}'[:500]


EVALUATED_TYPES = (
    AlertRule.AlertType.THRESHOLD,
    AlertRule.AlertType.HEARTBEAT,
    AlertRule.AlertType.ANOMALY,
    AlertRule.AlertType.PATTERN_MATCH,
    AlertRule.AlertType.COMPOSITE,
)


def for_duration_s(*, rule: AlertRule, wedding_day: bool) -> int:
    """The rule's for-duration in seconds: ``for_seconds``, or on a wedding day ``wedding_day_for_seconds``
    (empty: half of ``for_seconds``, rounded down): wedding days fire sooner."""
    if not wedding_day:
        return rule.for_seconds
    if rule.wedding_day_for_seconds is not None:
        return min(rule.wedding_day_for_seconds, rule.for_seconds) if rule.for_seconds else 0
    return rule.for_seconds // 2


def _pending_due_many(breaches: list[tuple], *, now: dt.datetime) -> tuple[list[tuple], set]:
    """Record the breaches waiting out their for-duration and pick those due; two or three statements.

    ``breaches``: ``[(rule, row, labels, fingerprint)]`` of identities not open. A rule without a
    for-duration is due at once. Others are kept in ``alert_rule_pending`` (one ``INSERT … ON
    CONFLICT DO NOTHING`` for them all); those pending for at least ``for_duration_s`` (shorter while
    the organization's wedding-day protocol is on: one ``wedding_days`` query) are due and their
    pending rows deleted (one DELETE). Returns ``(due breaches, pending keys still waiting)``.
    """
    from wedsync_ops.tenancy.wedding_day import wedding_days

    due = [b for b in breaches if b[0].for_seconds == 0]
    waiting = [b for b in breaches if b[0].for_seconds != 0]
    if not waiting:
        return due, set()
    days = wedding_days(organization_ids={b[1].organization_id for b in waiting}, at=now)
    params = [
        [str(b[1].organization_id) for b in waiting],
        [str(b[0].pk) for b in waiting],
        [b[3] for b in waiting],
    ]
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO alert_rule_pending (organization_id, rule_id, fingerprint, pending_since)"
            " SELECT t.org, t.rule, t.fp, %s FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) AS t(org, rule, fp)"
            " ON CONFLICT ON CONSTRAINT alert_rule_pending_once DO NOTHING",
            [now, *params],
        )
        cur.execute(
            "SELECT p.id, p.organization_id, p.rule_id, p.fingerprint, p.pending_since FROM alert_rule_pending p"
            " JOIN unnest(%s::uuid[], %s::uuid[], %s::text[]) AS t(org, rule, fp)"
            "   ON p.organization_id = t.org AND p.rule_id = t.rule AND p.fingerprint = t.fp",
            params,
        )
        since = {(org, rule_id, fp): (pk, at) for pk, org, rule_id, fp, at in cur.fetchall()}
        finished, still = [], set()
        for breach in waiting:
            rule, row, _labels, fp = breach
            pk, started = since[(row.organization_id, rule.pk, fp)]
            needed = for_duration_s(rule=rule, wedding_day=days.get(row.organization_id).on)
            if (now - started).total_seconds() >= needed:
                due.append(breach)
                finished.append(pk)
            else:
                still.add((row.organization_id, rule.pk, fp))
        if finished:
            cur.execute("DELETE FROM alert_rule_pending WHERE id = ANY(%s)", [finished])
    return due, still


def _fire_candidate(*, rule: AlertRule, row: RuleEvaluationRow, labels: dict, fingerprint: str, now: dt.datetime):
    """The ``FireCandidate`` of a rule's breach: its title, description, annotations and group key."""
    from alerts.firing import FireCandidate

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
    return FireCandidate(
        organization_id=row.organization_id,
        fingerprint=fingerprint,
        source=AlertHistory.Source.RULE,
        title=title,
        labels=labels,
        annotations=annotations,
        severity=rule.severity,
        priority=rule.priority,
        starts_at=now,
        rule=rule,
        value=row.value,
        threshold=row.threshold,
        threshold_reason=row.threshold_reason,
        description=description,
        group_key=rule_group_key(rule=rule, organization_slug=row.organization_slug),
    )


def _fire_due(due: list[tuple], *, now: dt.datetime) -> tuple[int, int, set]:
    """Fire the due breaches set-based (``alerts.firing.alerts_fire_many``); returns ``(fired, errors, failed)``.

    If the batch fails (a bug, a bad row), each breach is fired alone in its own savepoint instead, so
    one failing breach is logged and counted and does not stop the others; ``failed`` holds the
    identities that failed (their open alerts, if any, are not resolved this run).
    """
    from alerts.firing import alerts_fire_many

    candidates = [_fire_candidate(rule=r, row=row, labels=lb, fingerprint=fp, now=now) for r, row, lb, fp in due]
    if not candidates:
        return 0, 0, set()
    try:
        with transaction.atomic():
            fired = alerts_fire_many(candidates, now=now)
        return sum(c.created for c in fired), 0, set()
    except Exception:
        logger.exception("firing %d breaches at once failed; firing them one at a time", len(candidates))
    created = errors = 0
    failed = set()
    for candidate in candidates:
        try:
            with transaction.atomic():
                (one,) = alerts_fire_many([candidate], now=now)
                created += one.created
        except Exception:
            errors += 1
            failed.add(candidate.identity)
            logger.exception("organization %s, %s: firing failed", candidate.organization_id, candidate.title)
    return created, errors, failed


def _composite_fire(*, rule: AlertRule, now: dt.datetime, open_by_rule: dict) -> tuple[set, int, int]:
    """Fire a composite rule for each organization whose child rules' open alerts satisfy AND/OR.

    Returns ``(identities breaching, fired, errors)``. Organizations: the
    rule's own, or for a platform rule every organization with an open
    alert of a child rule.
    """
    children = [str(c) for c in (rule.composite_rule_ids or []) if str(c) != str(rule.id)]
    if not children:
        return set(), 0, 0
    orgs = {org for child in children for org in open_by_rule.get(child, set())}
    if rule.organization_id is not None:
        orgs &= {rule.organization_id}
    slugs = dict(Organization.objects.filter(pk__in=orgs).values_list("pk", "slug"))
    identities, fired, errors = set(), 0, 0
    for org_id in orgs:
        states = [org_id in open_by_rule.get(child, set()) for child in children]
        if not (all(states) if rule.composite_operator == "and" else any(states)):
            continue
        labels = rule_alert_labels(rule=rule, organization_slug=slugs.get(org_id, ""), service="")
        fingerprint = labels_fingerprint(labels)
        identities.add((org_id, fingerprint))
        joined = f" {rule.composite_operator.upper()} "
        title = f"{rule.name}: {joined.join(children)}"[:500]
        try:
            with transaction.atomic():
                _alert, created = alert_fire(
                    organization_id=org_id,
                    fingerprint=fingerprint,
                    source=AlertHistory.Source.RULE,
                    title=title,
                    labels=labels,
                    annotations={"summary": title},
                    severity=rule.severity,
                    priority=rule.priority,
                    starts_at=now,
                    now=now,
                    rule=rule,
                    threshold_reason=f"composite: {rule.composite_operator.upper()} of {len(children)} rules",
                    description=rule.description,
                )
                fired += created
        except Exception:
            errors += 1
            logger.exception("composite rule %s, organization %s: firing failed", rule.id, org_id)
    return identities, fired, errors


def _touch_open(touches: list[tuple], *, now: dt.datetime) -> int:
    """Set ``value`` and ``last_received_at = now`` of the open alerts ``(organization_id, fingerprint, value)``
    in one UPDATE (what ``alert_fire`` does to an open alert, without a query per alert). Returns rows changed."""
    if not touches:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE alert_history h
               SET value = coalesce(t.value, h.value), last_received_at = %s
              FROM unnest(%s::uuid[], %s::text[], %s::float8[]) AS t(org_id, fingerprint, value)
             WHERE h.organization_id = t.org_id AND h.fingerprint = t.fingerprint
               AND h.status IN ('firing', 'acknowledged', 'escalated', 'suppressed')
            """,
            [now, [t[0] for t in touches], [t[1] for t in touches], [t[2] for t in touches]],
        )
        return cur.rowcount


def rules_evaluate(*, now: dt.datetime) -> dict[str, int]:
    """Evaluate every enabled rule at ``now``; fire breaches, resolve what cleared.

    Returns ``{"evaluated": rows with data, "breaching": n, "pending": breaches
    waiting out a for-duration, "fired": new alerts, "resolved": alerts
    resolved, "errors": breaches that failed}``.

    Rows come from the set-based SQL functions (``rule_evaluation_rows_all``):
    ``alert_rule_evaluation`` (threshold rules), ``alert_heartbeat_evaluation``,
    ``alert_anomaly_evaluation`` and ``alert_pattern_evaluation`` (matching
    error reports). Threshold values are over the complete
    1-minute buckets of the rule's window: avg = sum(sum)/sum(count), count,
    sum, min, max; p50/p95/p99 are the *highest* 1-minute percentile in the
    window (bucket percentiles cannot be merged exactly). Thresholds: the
    ``wedding_day_threshold`` while the organization's wedding-day protocol
    is on (local Saturday or wedding day), else 20% stricter in the local
    wedding season (May..October) for rules with ``wedding_season_adjustment``
    on such a day, else ``threshold``; the reason is recorded on the alert.

    - Each breaching (rule, organization, service) fires through
      ``alerts.services.alert_fire`` with ``starts_at = now``, the applied
      threshold and its reason, once it has breached for the rule's
      ``for_seconds`` (on a wedding day ``for_duration_s``'s shorter value;
      tracked in ``alert_rule_pending``); alerts already open are only
      touched (``value``, ``last_received_at``), all in one UPDATE.
      Identity: the fingerprint of ``rule_alert_labels``.
    - Composite rules then fire per organization from the open alerts of
      their child rules (AND/OR).
    - Open ``rule`` alerts of evaluated rule types (or of deleted rules)
      whose identity is not breaching now are resolved (``ends_at = now``),
      and pending breaches that cleared are forgotten; no data in the window
      counts as not breaching, and so does a disabled rule.
    - Each breach runs in its own savepoint: one failing breach is logged
      and counted in ``errors`` and does not stop the others (its open
      alert, if any, is not resolved either).

    Must run in a service context (all organizations); ``now`` an aware
    datetime. Raises ValidationError for a naive ``now``.
    """
    require_aware("now", now)
    with transaction.atomic():
        rows = rule_evaluation_rows_all(now=now)
        breaches = [row for row in rows if row.breaching]
        rules = AlertRule.objects.in_bulk({row.rule_id for row in breaches})
        open_identities = set(
            AlertHistory.objects.filter(
                source=AlertHistory.Source.RULE, status__in=AlertHistory.OPEN_STATUSES
            ).values_list("organization_id", "fingerprint")
        )
        breaching_identities: set[tuple] = set()
        touches: list[tuple] = []
        fresh: list[tuple] = []
        for row in breaches:
            rule = rules.get(row.rule_id)
            if rule is None:  # deleted between the query and now
                continue
            labels = rule_alert_labels(rule=rule, organization_slug=row.organization_slug, service=row.service)
            fingerprint = labels_fingerprint(labels)
            identity = (row.organization_id, fingerprint)
            breaching_identities.add(identity)
            if identity in open_identities:  # already open: only touched, in one statement below
                touches.append((row.organization_id, fingerprint, row.value))
            else:
                fresh.append((rule, row, labels, fingerprint))
        due, pending_keys = _pending_due_many(fresh, now=now)
        waiting = len(fresh) - len(due)
        breaching_identities -= {(org, fp) for org, _rule, fp in pending_keys}
        fired, errors, _failed = _fire_due(due, now=now)
        _touch_open(touches, now=now)
        open_by_rule: dict[str, set] = {}
        for rule_id, org_id in AlertHistory.objects.filter(
            source=AlertHistory.Source.RULE, status__in=AlertHistory.OPEN_STATUSES, rule__isnull=False
        ).values_list("rule_id", "organization_id"):
            open_by_rule.setdefault(str(rule_id), set()).add(org_id)
        for rule in AlertRule.objects.filter(enabled=True, alert_type=AlertRule.AlertType.COMPOSITE):
            identities, composite_fired, composite_errors = _composite_fire(
                rule=rule, now=now, open_by_rule=open_by_rule
            )
            breaching_identities |= identities
            fired += composite_fired
            errors += composite_errors
        stale = [
            p.pk
            for p in AlertRulePending.objects.all()
            if (p.organization_id, p.rule_id, p.fingerprint) not in pending_keys
        ]
        if stale:
            AlertRulePending.objects.filter(pk__in=stale).delete()
        resolved = 0
        open_rule_alerts = AlertHistory.objects.filter(
            Q(rule__isnull=True) | Q(rule__alert_type__in=EVALUATED_TYPES),
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
            "pending": waiting,
            "fired": fired,
            "resolved": resolved,
            "errors": errors,
        }
