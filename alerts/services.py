"""Alert state changes: fire, resolve, acknowledge, record a resolution, create an integration.

Every function runs in the caller's tenant context (row-level security
applies: background jobs and inbound integrations use ``service_context()``)
and inside one transaction: the alert row, its notifications (the outbox)
and its incident commit together or not at all.

Identity: at most one *open* alert (firing, acknowledged, escalated,
suppressed) per (organization, fingerprint), NULL organization included
(the partial unique constraint ``alert_history_one_open_per_fingerprint``
with NULLS NOT DISTINCT). A fingerprint that fires again after its alert was
resolved opens a new row.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import AlertHistory, AlertIntegration, AlertRule, SuppressionRule
from alerts.notifications.services import notifications_enqueue
from alerts.suppression import parse_matchers, suppression_for
from incidents.services import incident_open_from_alert
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.auth import hash_token
from wedsync_ops.tenancy.context import service_context

ONE_OPEN_CONSTRAINT = "alert_history_one_open_per_fingerprint"
INCIDENT_SEVERITIES = (AlertSeverity.CRITICAL, AlertSeverity.EMERGENCY)
WEDDING_DAY_INCIDENT_PRIORITIES = (AlertPriority.HIGH, AlertPriority.CRITICAL)
TOKEN_PREFIX = "wsi_"


class AlertStateError(ValidationError):
    """The requested change does not apply to the alert's status (e.g. acknowledging a resolved alert)."""


def require_aware(name: str, value: dt.datetime | None) -> None:
    """Raise ValidationError (key ``name``) unless ``value`` is an aware datetime."""
    if value is None or timezone.is_naive(value):
        raise ValidationError({name: "an aware datetime is required"})


def _is_one_open_violation(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == ONE_OPEN_CONSTRAINT


def wedding_day_protocol_active(*, organization_id: uuid.UUID | None, at: dt.datetime) -> tuple[bool, str]:
    """SQL ``wedding_day_protocol(org, at)`` as ``(active, reason)``; ``(False, "")`` without organization.

    ``reason`` is e.g. ``"wedding day: local Saturday 2026-06-13"``. The
    caller's context must see the organization and its weddings.
    """
    if organization_id is None:
        return False, ""
    with connection.cursor() as cur:
        cur.execute("SELECT active, reason FROM wedding_day_protocol(%s, %s)", [organization_id, at])
        row = cur.fetchone()
    if row is None or not row[0]:
        return False, ""
    return True, row[1] or ""


def _open_alert(*, organization_id, fingerprint: str, lock: bool = True) -> AlertHistory | None:
    qs = AlertHistory.objects.filter(
        organization_id=organization_id, fingerprint=fingerprint, status__in=AlertHistory.OPEN_STATUSES
    )
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _alert_create(
    *, status: str, group_key: str, title: str, now: dt.datetime, threshold_reason: str = "", **fields
) -> AlertHistory:
    """Insert one alert_history row, texts cut to their column lengths (group key 500, title 500, reason 200)."""
    return AlertHistory.objects.create(
        status=status, group_key=group_key[:500], title=title[:500], threshold_reason=threshold_reason[:200],
        last_received_at=now, **fields,
    )


def _touch(alert: AlertHistory, *, value: float | None, now: dt.datetime) -> AlertHistory:
    alert.last_received_at = now
    fields = ["last_received_at"]
    if value is not None:
        alert.value = value
        fields.append("value")
    alert.save(update_fields=fields)
    return alert


def alert_fire(
    *,
    organization_id: uuid.UUID | None,
    fingerprint: str,
    source: str,
    title: str,
    labels: dict,
    annotations: dict,
    severity: str,
    priority: str,
    starts_at: dt.datetime,
    now: dt.datetime,
    rule: AlertRule | None = None,
    integration: AlertIntegration | None = None,
    value: float | None = None,
    threshold: float | None = None,
    threshold_reason: str = "",
    group_key: str = "",
    generator_url: str = "",
    description: str = "",
) -> tuple[AlertHistory, bool]:
    """Record that the alert ``(organization_id, fingerprint)`` fires; returns ``(alert, created)``.

    - An open alert with that identity exists: it is only touched
      (``last_received_at = now``, and ``value`` when given); ``created`` False.
    - A resolved alert with the same ``starts_at`` exists (a redelivered
      firing of an alert already resolved, e.g. an Alertmanager repeat that
      crossed the resolution): nothing changes; returns that resolved alert,
      ``created`` False.
    - Otherwise a new ``firing`` alert is written (``created`` True), the
      ``alert.firing`` notifications are enqueued in the same transaction,
      and an incident is opened (``incidents.services.incident_open_from_alert``)
      when ``severity`` is critical/emergency, or when the organization's
      wedding-day protocol is on at ``now`` and ``priority`` is high/critical.
    - Unless the identity is flapping (``_hold_if_flapping``): then the new
      alert is firing but marked ``flapping`` and nothing is notified.
    - Unless a silence, maintenance window or inhibition rule mutes it at
      ``now`` (``alerts.suppression.suppression_for``): then the new alert
      is written as ``suppressed`` with ``suppressed_by`` and
      ``suppression_reason``, and nothing is notified or opened.

    Arguments: ``organization_id`` None means unassigned (staff only);
    ``fingerprint`` up to 64 chars (``alerts.fingerprint.labels_fingerprint``);
    ``source`` an ``AlertHistory.Source``; ``severity``/``priority`` values of
    ``alert_severity``/``alert_priority``; ``starts_at``/``now`` aware
    datetimes; ``value``/``threshold`` in the metric's unit (ms for latencies).
    ``title`` is cut to 500 characters, ``group_key`` to 500.

    Races: two transactions firing one identity at once leave one open
    alert: the insert runs in a savepoint and a violation of
    ``alert_history_one_open_per_fingerprint`` falls back to touching the
    row the other transaction committed. Raises ValidationError for naive
    datetimes.
    """
    require_aware("starts_at", starts_at)
    require_aware("now", now)
    with transaction.atomic():
        existing = _open_alert(organization_id=organization_id, fingerprint=fingerprint)
        if existing is not None:
            return _touch(existing, value=value, now=now), False
        already_resolved = AlertHistory.objects.filter(
            organization_id=organization_id,
            fingerprint=fingerprint,
            starts_at=starts_at,
            status=AlertHistory.Status.RESOLVED,
        ).first()
        if already_resolved is not None:
            return already_resolved, False
        try:
            with transaction.atomic():
                alert = _alert_create(
                    status=AlertHistory.Status.FIRING, organization_id=organization_id, rule=rule,
                    integration=integration, source=source, fingerprint=fingerprint, group_key=group_key,
                    severity=severity, priority=priority, title=title, description=description, labels=labels,
                    annotations=annotations, generator_url=generator_url, starts_at=starts_at, now=now,
                    value=value, threshold=threshold, threshold_reason=threshold_reason,
                )
        except IntegrityError as exc:
            if not _is_one_open_violation(exc):
                raise
            # Another transaction opened it and committed first: ours is a repeat.
            existing = _open_alert(organization_id=organization_id, fingerprint=fingerprint)
            if existing is None:  # it was opened and resolved meanwhile; nothing left to touch
                raise
            return _touch(existing, value=value, now=now), False

        if _suppress_if_muted(alert=alert, now=now):
            return alert, True
        if _hold_if_flapping(alert=alert, now=now):
            return alert, True
        notifications_enqueue(event="alert.firing", alert=alert, now=now)
        if _opens_incident(alert=alert, now=now):
            incident_open_from_alert(alert=alert, now=now)
        return alert, True


def _hold_if_flapping(*, alert: AlertHistory, now: dt.datetime) -> bool:
    """Mark a new alert ``flapping`` (and notify nothing) when its identity opened too often lately.

    Flapping: at least ``alerts.conf.FLAP_MAX_OPENINGS`` alerts of this
    (organization, fingerprint), this one included, started within the last
    ``FLAP_WINDOW_S`` seconds before ``now``. ``suppressions_apply``
    releases it (notifies) once it has stayed open ``FLAP_WINDOW_S``.
    """
    from alerts import conf

    since = now - dt.timedelta(seconds=conf.FLAP_WINDOW_S)
    openings = AlertHistory.objects.filter(
        organization_id=alert.organization_id, fingerprint=alert.fingerprint, starts_at__gte=since
    ).count()
    if openings < conf.FLAP_MAX_OPENINGS:
        return False
    alert.flapping = True
    alert.suppression_reason = f"flapping: opened {openings} times in {conf.FLAP_WINDOW_S // 60} min"
    AlertHistory.objects.filter(pk=alert.pk).update(flapping=True, suppression_reason=alert.suppression_reason)
    return True


def _suppress_if_muted(*, alert: AlertHistory, now: dt.datetime) -> bool:
    """Mark a new alert ``suppressed`` when a silence, maintenance window or inhibition mutes it.

    The alert stays recorded (status ``suppressed``, ``suppressed_by``,
    ``suppression_reason``); no notification is enqueued and no incident
    opened. Looked up in a service context (platform-wide rules are not
    visible to a vendor context). Returns True when suppressed.
    """
    with service_context():
        rule, reason = suppression_for(alert=alert, at=now)
    if rule is None:
        return False
    alert.status = AlertHistory.Status.SUPPRESSED
    alert.suppressed_by = rule
    alert.suppression_reason = reason[:300]
    AlertHistory.objects.filter(pk=alert.pk).update(
        status=alert.status, suppressed_by=rule, suppression_reason=alert.suppression_reason
    )
    return True


def _opens_incident(*, alert: AlertHistory, now: dt.datetime) -> bool:
    if alert.severity in INCIDENT_SEVERITIES:
        return True
    if alert.priority not in WEDDING_DAY_INCIDENT_PRIORITIES:
        return False
    active, _reason = wedding_day_protocol_active(organization_id=alert.organization_id, at=now)
    return active


def alert_resolve(*, alert: AlertHistory, ends_at: dt.datetime | None, now: dt.datetime) -> tuple[AlertHistory, bool]:
    """Resolve an open alert; returns ``(alert, changed)``.

    Sets ``status = resolved``, ``resolved_at = now`` and ``ends_at``
    (``now`` when None) and enqueues the ``alert.resolved`` notifications in
    the same transaction (not for a ``suppressed`` alert: nobody was told
    that it fired). An alert already resolved is left as it is
    (``changed`` False, nothing enqueued). ``alert`` is updated in place.
    Raises ValidationError for naive datetimes.
    """
    require_aware("now", now)
    if ends_at is not None:
        require_aware("ends_at", ends_at)
    with transaction.atomic():
        locked = AlertHistory.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertHistory.Status.RESOLVED:
            for field in ("status", "resolved_at", "ends_at"):
                setattr(alert, field, getattr(locked, field))
            return alert, False
        was_suppressed = locked.status == AlertHistory.Status.SUPPRESSED or locked.flapping
        alert.status = AlertHistory.Status.RESOLVED
        alert.resolved_at = now
        alert.ends_at = ends_at or now
        alert.last_received_at = now
        AlertHistory.objects.filter(pk=alert.pk).update(
            status=alert.status, resolved_at=alert.resolved_at, ends_at=alert.ends_at, last_received_at=now
        )
        if not was_suppressed:  # a muted alert's resolution is as quiet as its firing
            notifications_enqueue(event="alert.resolved", alert=alert, now=now)
        return alert, True


def alert_record_resolved(
    *,
    organization_id: uuid.UUID | None,
    fingerprint: str,
    source: str,
    title: str,
    labels: dict,
    annotations: dict,
    severity: str,
    priority: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
    now: dt.datetime,
    integration: AlertIntegration | None = None,
    group_key: str = "",
    generator_url: str = "",
    description: str = "",
) -> tuple[AlertHistory, bool]:
    """Keep a resolution of an alert we never saw open; returns ``(alert, created)``.

    For inbound integrations: a ``resolved`` alert arrives, no alert with
    that identity is open (e.g. its firing was cut by Alertmanager's
    ``max_alerts``). If an alert with the same (organization, fingerprint,
    ``starts_at``) exists, nothing changes and it is returned (``created``
    False: a redelivery). Otherwise a ``resolved`` row is written
    (``resolved_at = now``, ``ends_at`` or ``now``), so the history is never
    lost. No notification is enqueued: nobody was told that it fired.
    Concurrent calls for one identity are serialised by a transaction-level
    advisory lock, so a redelivery racing the original writes one row.
    Arguments as in ``alert_fire``.
    """
    require_aware("starts_at", starts_at)
    require_aware("now", now)
    with transaction.atomic():
        # Resolved rows have no unique constraint: serialise concurrent redeliveries of one identity.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"alert_history:{organization_id or ''}:{fingerprint}"],
            )
        existing = AlertHistory.objects.filter(
            organization_id=organization_id, fingerprint=fingerprint, starts_at=starts_at
        ).first()
        if existing is not None:
            return existing, False
        alert = _alert_create(
            status=AlertHistory.Status.RESOLVED, organization_id=organization_id, integration=integration,
            source=source, fingerprint=fingerprint, group_key=group_key, severity=severity, priority=priority,
            title=title, description=description, labels=labels, annotations=annotations,
            generator_url=generator_url, starts_at=starts_at, now=now, ends_at=ends_at or now, resolved_at=now,
        )
        return alert, True


def alert_acknowledge(*, alert: AlertHistory, by, now: dt.datetime) -> tuple[AlertHistory, bool]:
    """Acknowledge an open alert; returns ``(alert, changed)``.

    ``by``: the acknowledging user (or None for the system); ``now`` an aware
    datetime. A firing, escalated or suppressed alert becomes
    ``acknowledged`` (``acknowledged_at = now``, ``acknowledged_by = by``);
    an alert already acknowledged is left as it is (``changed`` False).
    Raises AlertStateError (key ``status``) for a resolved alert.
    """
    require_aware("now", now)
    with transaction.atomic():
        locked = AlertHistory.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertHistory.Status.RESOLVED:
            raise AlertStateError({"status": "a resolved alert cannot be acknowledged"})
        if locked.status == AlertHistory.Status.ACKNOWLEDGED:
            return alert, False
        alert.status = AlertHistory.Status.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = by if getattr(by, "pk", None) else None
        AlertHistory.objects.filter(pk=alert.pk).update(
            status=alert.status, acknowledged_at=now, acknowledged_by=alert.acknowledged_by
        )
        return alert, True


def integration_create(
    *, kind: str, name: str, organization_id: uuid.UUID | None = None
) -> tuple[AlertIntegration, str]:
    """Create an inbound integration and its bearer token; returns ``(integration, token)``.

    The token (``wsi_`` + 43 URL-safe characters, 256 bits) is returned
    once: only its SHA-256 (``token_hash``) and its first 12 characters
    (``token_prefix``) are stored. ``organization_id`` None makes a
    platform-wide integration (alerts name their organization by the
    ``organization`` label). Raises ValidationError (key ``kind``) for an
    unknown kind, (key ``name``) for an empty or over-long name.
    """
    if kind not in AlertIntegration.Kind.values:
        raise ValidationError({"kind": f"unknown kind {kind!r}; one of {', '.join(AlertIntegration.Kind.values)}"})
    if not name or len(name) > 100:
        raise ValidationError({"name": "a name of 1 to 100 characters is required"})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    integration = AlertIntegration.objects.create(
        organization_id=organization_id,
        kind=kind,
        name=name,
        token_prefix=token[:12],
        token_hash=hash_token(token),
    )
    return integration, token


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
            kind=kind, matchers=matchers, organization_id=organization_id, name=name[:200], comment=comment,
            created_by=created_by if getattr(created_by, "pk", None) else None, starts_at=starts_at, ends_at=ends_at,
            weekdays=list(weekdays or []), start_time=start_time, end_time=end_time, timezone=timezone_name,
            source_matchers=list(source_matchers or []), equal_labels=list(equal_labels or []),
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
        if not isinstance(days, list) or not days or any(
            not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in days
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


def suppressions_apply(*, now: dt.datetime) -> dict[str, int]:
    """Bring open alerts in line with the rules in force at ``now``; returns ``{"suppressed": n, "released": m}``.

    - A ``firing`` alert that a rule mutes becomes ``suppressed`` (an
      acknowledged or escalated one is being worked on and stays).
    - A ``flapping`` firing alert that has stayed open ``FLAP_WINDOW_S``
      is released the same way (``flapping`` False, notifications enqueued).
    - A ``suppressed`` alert that nothing mutes any more (the silence
      expired, the window closed, the inhibiting alert resolved) is released:
      ``firing`` again, and its ``alert.firing`` notifications are enqueued
      then (once per channel: the outbox's unique key), with an incident
      when ``alert_fire`` would have opened one.

    Run by the beat task ``alerts.tasks.apply_suppressions`` every minute,
    and on creating a rule. Needs a service context.
    """
    require_aware("now", now)
    counts = {"suppressed": 0, "released": 0}
    with transaction.atomic():
        from alerts import conf

        stable_since = now - dt.timedelta(seconds=conf.FLAP_WINDOW_S)
        steady = AlertHistory.objects.filter(
            flapping=True, status=AlertHistory.Status.FIRING, starts_at__lte=stable_since
        ).select_for_update(skip_locked=True)
        for alert in steady:
            AlertHistory.objects.filter(pk=alert.pk).update(flapping=False, suppression_reason="")
            alert.flapping, alert.suppression_reason = False, ""
            notifications_enqueue(event="alert.firing", alert=alert, now=now)
            counts["released"] += 1
        candidates = AlertHistory.objects.filter(
            status__in=[AlertHistory.Status.FIRING, AlertHistory.Status.SUPPRESSED]
        ).select_related("organization")
        has_rules = SuppressionRule.objects.filter(enabled=True).exists()
        for alert in candidates.select_for_update(of=("self",), skip_locked=True):
            if alert.status == AlertHistory.Status.FIRING and not has_rules:
                continue
            rule, reason = suppression_for(alert=alert, at=now)
            if alert.status == AlertHistory.Status.FIRING and rule is not None:
                AlertHistory.objects.filter(pk=alert.pk).update(
                    status=AlertHistory.Status.SUPPRESSED, suppressed_by=rule, suppression_reason=reason[:300]
                )
                counts["suppressed"] += 1
            elif alert.status == AlertHistory.Status.SUPPRESSED and rule is None:
                alert.status = AlertHistory.Status.FIRING
                alert.suppressed_by = None
                alert.suppression_reason = ""
                AlertHistory.objects.filter(pk=alert.pk).update(
                    status=alert.status, suppressed_by=None, suppression_reason=""
                )
                notifications_enqueue(event="alert.firing", alert=alert, now=now)
                if alert.incident_id is None and _opens_incident(alert=alert, now=now):
                    incident_open_from_alert(alert=alert, now=now)
                counts["released"] += 1
    return counts


RULE_EDITABLE_FIELDS = (
    "name", "description", "alert_type", "service", "metric_name", "aggregation", "comparison", "threshold",
    "wedding_day_threshold", "wedding_season_adjustment", "window_minutes", "for_seconds",
    "wedding_day_for_seconds", "baseline_weeks", "composite_operator", "composite_rule_ids", "pattern", "severity",
    "priority", "labels", "runbook_url", "enabled",
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
