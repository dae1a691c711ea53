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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alerts.models import AlertHistory, AlertIntegration, AlertRule
from alerts.notifications.services import notifications_enqueue
from incidents.services import incident_open_from_alert
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.auth import hash_token

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
                alert = AlertHistory.objects.create(
                    organization_id=organization_id,
                    rule=rule,
                    integration=integration,
                    source=source,
                    fingerprint=fingerprint,
                    group_key=group_key[:500],
                    status=AlertHistory.Status.FIRING,
                    severity=severity,
                    priority=priority,
                    title=title[:500],
                    description=description,
                    labels=labels,
                    annotations=annotations,
                    value=value,
                    threshold=threshold,
                    threshold_reason=threshold_reason[:200],
                    generator_url=generator_url,
                    starts_at=starts_at,
                    last_received_at=now,
                )
        except IntegrityError as exc:
            if not _is_one_open_violation(exc):
                raise
            # Another transaction opened it and committed first: ours is a repeat.
            existing = _open_alert(organization_id=organization_id, fingerprint=fingerprint)
            if existing is None:  # it was opened and resolved meanwhile; nothing left to touch
                raise
            return _touch(existing, value=value, now=now), False

        notifications_enqueue(event="alert.firing", alert=alert, now=now)
        if _opens_incident(alert=alert, now=now):
            incident_open_from_alert(alert=alert, now=now)
        return alert, True


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
    the same transaction. An alert already resolved is left as it is
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
        alert.status = AlertHistory.Status.RESOLVED
        alert.resolved_at = now
        alert.ends_at = ends_at or now
        alert.last_received_at = now
        AlertHistory.objects.filter(pk=alert.pk).update(
            status=alert.status, resolved_at=alert.resolved_at, ends_at=alert.ends_at, last_received_at=now
        )
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
        alert = AlertHistory.objects.create(
            organization_id=organization_id,
            integration=integration,
            source=source,
            fingerprint=fingerprint,
            group_key=group_key[:500],
            status=AlertHistory.Status.RESOLVED,
            severity=severity,
            priority=priority,
            title=title[:500],
            description=description,
            labels=labels,
            annotations=annotations,
            generator_url=generator_url,
            starts_at=starts_at,
            ends_at=ends_at or now,
            resolved_at=now,
            last_received_at=now,
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
