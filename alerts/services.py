"""Alert state changes: fire, resolve, acknowledge, record a resolution, create an integration.

Every function runs in the caller's tenant context (row-level security applies: background jobs and
inbound integrations use ``service_context()``) and inside one transaction: the alert row, its
notifications (the outbox, through ``alerts.notify``) and its incident commit together or not at all.

Identity: at most one *open* alert (firing, acknowledged, escalated, suppressed) per (organization,
fingerprint), NULL organization included (the partial unique constraint
``alert_history_one_open_per_fingerprint`` with NULLS NOT DISTINCT). A fingerprint that fires again
after its alert was resolved opens a new row, unless the firing is a redelivery of the resolved one
(its ``startsAt`` falls before that alert's end: see ``alert_fire``).

Silences, maintenance windows and inhibition are applied by ``alerts.silences``; the two meet here:
a new alert that is muted when it fires is written ``suppressed`` and notifies nobody.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerts.firing import FireCandidate
from alerts.models import AlertHistory, AlertIntegration, AlertRule
from alerts.notify import alert_notifications_cancel, alert_notify, alert_was_notified
from incidents.services import incident_alerts_changed
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.auth import hash_token
from wedsync_ops.tenancy.wedding_day import OFF, wedding_days

INCIDENT_SEVERITIES = (AlertSeverity.CRITICAL, AlertSeverity.EMERGENCY)
WEDDING_DAY_INCIDENT_PRIORITIES = (AlertPriority.HIGH, AlertPriority.CRITICAL)
EXTERNAL_SOURCES = (
    AlertHistory.Source.ALERTMANAGER,
    AlertHistory.Source.GRAFANA,
    AlertHistory.Source.PAGERDUTY,
    AlertHistory.Source.WEBHOOK,
)
TOKEN_PREFIX = "wsi_"


class AlertStateError(ValidationError):
    """The requested change does not apply to the alert's status (e.g. acknowledging a resolved alert)."""


def require_aware(name: str, value: dt.datetime | None) -> None:
    """Raise ValidationError (key ``name``) unless ``value`` is an aware datetime."""
    if value is None or timezone.is_naive(value):
        raise ValidationError({name: "an aware datetime is required"})


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
        status=status,
        group_key=group_key[:500],
        title=title[:500],
        threshold_reason=threshold_reason[:200],
        last_received_at=now,
        **fields,
    )


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

    - An open alert with that identity exists: it is only touched (``last_received_at = now``, and
      ``value`` when given); ``created`` False.
    - A resolved alert of that identity covers ``starts_at``: nothing changes; returns that resolved
      alert, ``created`` False. Alertmanager (and Grafana, which speaks its format) keeps re-sending a
      firing alert, and moves its ``startsAt`` *earlier* when it merges a re-sent alert of the same
      fingerprint, never later: for those sources a firing whose ``startsAt`` is before a resolved
      alert's end, or equal to its start, is that alert again (a redelivery that crossed its resolution,
      or one resolved in the portal), not a new problem. Other senders (PagerDuty's ``timestamp``,
      generic webhooks) carry no such guarantee: only the same ``starts_at`` is a redelivery.
    - Otherwise a new ``firing`` alert is written (``created`` True; ``escalation_clock_at = now``: the
      escalation clock starts when the portal first sees it, not at ``starts_at``), its
      ``alert.firing`` notifications are enqueued in the same transaction, and it opens or joins an
      incident (``incidents.services.incident_open_from_alert``) when ``severity`` is
      critical/emergency, or when the organization's wedding-day protocol is on at ``now`` and
      ``priority`` is high/critical.
    - Unless the identity is flapping: at least ``alerts.conf.FLAP_MAX_OPENINGS`` alerts of it, this
      one included, started within ``FLAP_WINDOW_S`` before ``now``; then the new alert is firing but
      marked ``flapping`` and nothing is notified until ``alerts.silences.suppressions_apply`` releases
      it (notifies, opens its incident) once it has stayed open ``FLAP_WINDOW_S``.
    - Unless a silence, maintenance window or inhibition rule mutes it at ``now``
      (``alerts.suppression.Muter``): then it is written ``suppressed`` with ``suppressed_by`` and
      ``suppression_reason``, and nothing is notified or opened.

    Arguments: ``organization_id`` None means unassigned (staff only); ``fingerprint`` up to 64 chars
    (``alerts.fingerprint.labels_fingerprint``); ``source`` an ``AlertHistory.Source``;
    ``severity``/``priority`` values of ``alert_severity``/``alert_priority``; ``starts_at``/``now``
    aware datetimes; ``value``/``threshold`` in the metric's unit (ms for latencies). ``title`` is cut
    to 500 characters, ``group_key`` to 500.

    ``alerts.firing.alerts_fire_many`` with one alert (rule evaluation fires its storms with it). Races:
    two transactions firing one identity at once leave one open alert (``INSERT … ON CONFLICT`` on
    ``alert_history_one_open_per_fingerprint``; the loser touches the winner's row). Raises
    ValidationError for naive datetimes.
    """
    from alerts.firing import FireCandidate, alerts_fire_many

    require_aware("starts_at", starts_at)
    require_aware("now", now)
    (candidate,) = alerts_fire_many(
        [
            FireCandidate(
                organization_id=organization_id,
                fingerprint=fingerprint,
                source=source,
                title=title,
                labels=labels,
                annotations=annotations,
                severity=severity,
                priority=priority,
                starts_at=starts_at,
                rule=rule,
                integration=integration,
                value=value,
                threshold=threshold,
                threshold_reason=threshold_reason,
                group_key=group_key,
                generator_url=generator_url,
                description=description,
            )
        ],
        now=now,
    )
    return candidate.alert, candidate.created  # type: ignore[return-value]  # filled by alerts_fire_many


_ANY = object()


def alerts_sync(
    *,
    source: str,
    firing: list[FireCandidate],
    now: dt.datetime,
    organization_id: uuid.UUID | None | object = _ANY,
    fingerprints: list[str] | None = None,
) -> tuple[list[FireCandidate], list[AlertHistory]]:
    """Make the open alerts of an internal ``source`` be exactly ``firing``; returns ``(fired, resolved)``.

    For the portal's own checks (database health, provider polls), which know at each run the full set
    of problems they watch: every candidate of ``firing`` fires (``alerts.firing.alerts_fire_many``,
    ``source`` set on each: an open alert of the identity is touched, a new one notifies and may open
    an incident), and every open alert of ``source`` within the scope that is not among them resolves
    (``alert_resolve``, ``ends_at = now``). The scope: ``organization_id`` when given (None is the
    platform-wide alerts), and ``fingerprints`` when given (the identities this caller watches; others
    of the same source are left alone). ``fired``: the candidates, ``alert`` and ``created`` filled in;
    ``resolved``: the alerts this call resolved. One transaction. Raises ValidationError for a naive
    ``now`` (or ``starts_at``).
    """
    from alerts.firing import alerts_fire_many

    require_aware("now", now)
    with transaction.atomic():
        for candidate in firing:
            candidate.source = source
        fired = alerts_fire_many(firing, now=now) if firing else []
        still = {c.identity for c in fired}
        open_alerts = AlertHistory.objects.filter(source=source, status__in=AlertHistory.OPEN_STATUSES)
        if organization_id is not _ANY:
            open_alerts = open_alerts.filter(organization_id=organization_id)  # type: ignore[misc]  # None: IS NULL, which django-stubs does not model
        if fingerprints is not None:
            open_alerts = open_alerts.filter(fingerprint__in=fingerprints)
        resolved = []
        for alert in open_alerts.order_by("starts_at", "id"):
            if (alert.organization_id, alert.fingerprint) in still:
                continue
            alert, changed = alert_resolve(alert=alert, ends_at=now, now=now)
            if changed:
                resolved.append(alert)
    return fired, resolved


def alerts_link_incident(*, links: list[tuple[uuid.UUID, uuid.UUID]]) -> int:
    """Link alerts to incidents: ``links`` ``[(alert id, incident id)]``; returns the alerts linked.

    One statement. The incidents app opens or joins an incident and links its alerts through this (the
    alerts ⇄ incidents edge). Runs in the caller's context (row-level security applies).
    """
    if not links:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE alert_history h SET incident_id = j.incident"
            " FROM unnest(%s::uuid[], %s::uuid[]) AS j(alert, incident) WHERE h.id = j.alert",
            [[str(a) for a, _i in links], [str(i) for _a, i in links]],
        )
        return cur.rowcount


def alert_opens_incident(*, alert: AlertHistory, now: dt.datetime) -> bool:
    """Whether ``alert`` opens (or joins) an incident: critical/emergency severity, or a high/critical
    priority while its organization's wedding-day protocol is on at ``now``."""
    return bool(alert_opens_incident_many(alerts=[alert], now=now))


def alert_opens_incident_many(*, alerts: list, now: dt.datetime, days: dict | None = None) -> list:
    """The alerts of ``alerts`` that open incidents (``alert_opens_incident``), with one wedding-day query
    (none when ``days``, the organizations' ``WeddingDay`` at ``now``, is given)."""
    needs_day = [
        a for a in alerts if a.severity not in INCIDENT_SEVERITIES and a.priority in WEDDING_DAY_INCIDENT_PRIORITIES
    ]
    if days is None:
        days = wedding_days(organization_ids={a.organization_id for a in needs_day}, at=now) if needs_day else {}
    return [
        a
        for a in alerts
        if a.severity in INCIDENT_SEVERITIES
        or (a.priority in WEDDING_DAY_INCIDENT_PRIORITIES and days.get(a.organization_id, OFF).on)
    ]


def alert_resolve(
    *,
    alert: AlertHistory,
    ends_at: dt.datetime | None,
    now: dt.datetime,
    by=None,
    in_portal: bool = False,
) -> tuple[AlertHistory, bool]:
    """Resolve an open alert; returns ``(alert, changed)``.

    Sets ``status = resolved``, ``resolved_at = now``, ``ends_at`` (``now`` when None) and
    ``resolved_in_portal`` when a person resolved it here (``in_portal``; an externally-sourced alert
    then ignores redeliveries of the same firing, see ``alert_fire``). Its notifications not
    yet sent are cancelled; ``alert.resolved`` is enqueued only when somebody was told that it fired
    (a muted, flapping or never-sent alert resolves as quietly as it fired). Then its incident is told
    (``incidents.services.incident_alerts_changed``): an incident whose last open alert resolved
    resolves itself, unless it is set to resolve manually. An alert already resolved is left as it is
    (``changed`` False, nothing enqueued). ``alert`` is updated in place. ``by``: the person, if any.
    Raises ValidationError for naive datetimes.
    """
    require_aware("now", now)
    if ends_at is not None:
        require_aware("ends_at", ends_at)
    with transaction.atomic():
        locked = AlertHistory.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertHistory.Status.RESOLVED:
            for field in ("status", "resolved_at", "ends_at", "resolved_in_portal"):
                setattr(alert, field, getattr(locked, field))
            return alert, False
        alert.status = AlertHistory.Status.RESOLVED
        alert.resolved_at = now
        alert.ends_at = ends_at or now
        alert.last_received_at = now
        alert.resolved_in_portal = in_portal
        alert.incident_id = locked.incident_id
        AlertHistory.objects.filter(pk=alert.pk).update(
            status=alert.status,
            resolved_at=now,
            ends_at=alert.ends_at,
            last_received_at=now,
            resolved_in_portal=in_portal,
        )
        alert_notifications_cancel(alert=alert, reason="the alert resolved before this was sent", now=now)
        if alert_was_notified(alert):
            alert_notify(event="alert.resolved", alert=alert, now=now)
        if locked.incident_id is not None:
            incident_alerts_changed(incident_id=locked.incident_id, now=now, by=by)
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

    For inbound integrations: a ``resolved`` alert arrives and no open alert of that identity has a
    start it covers (e.g. its firing was cut by Alertmanager's ``max_alerts``). If an alert with the
    same (organization, fingerprint, ``starts_at``) exists, nothing changes and it is returned
    (``created`` False: a redelivery). Otherwise a ``resolved`` row is written (``resolved_at = now``,
    ``ends_at`` or ``now``), so the history is never lost. No notification is enqueued: nobody was
    told that it fired. Concurrent calls for one identity are serialised by a transaction-level
    advisory lock, so a redelivery racing the original writes one row. Arguments as in ``alert_fire``.
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
        existing = AlertHistory.objects.filter(  # type: ignore[misc]  # None: IS NULL, which django-stubs does not model
            organization_id=organization_id, fingerprint=fingerprint, starts_at=starts_at
        ).first()
        if existing is not None:
            return existing, False
        alert = _alert_create(
            status=AlertHistory.Status.RESOLVED,
            organization_id=organization_id,
            integration=integration,
            source=source,
            fingerprint=fingerprint,
            group_key=group_key,
            severity=severity,
            priority=priority,
            title=title,
            description=description,
            labels=labels,
            annotations=annotations,
            generator_url=generator_url,
            starts_at=starts_at,
            now=now,
            ends_at=ends_at or now,
            resolved_at=now,
        )
        return alert, True


def alert_receive_resolution(
    *,
    organization_id: uuid.UUID | None,
    fingerprint: str,
    ends_at: dt.datetime | None,
    now: dt.datetime,
    **fields,
) -> tuple[AlertHistory, str]:
    """An inbound ``resolved`` alert: resolve the open alert it covers, or keep it; returns ``(alert, outcome)``.

    ``outcome`` is ``"resolved"`` (the open alert of that identity was resolved: the resolution
    covers its open period, ``ends_at`` — or ``now`` without one — at or after the open alert's start,
    whatever the two ``startsAt``), ``"kept"`` (no open alert it covers: a ``resolved`` row is kept,
    ``alert_record_resolved``) or ``"unchanged"`` (a redelivery). ``fields``: as ``alert_record_resolved``
    (``starts_at`` included). Runs in the caller's transaction and service context.
    """
    end = ends_at or now
    with transaction.atomic():
        open_alert = _open_alert(organization_id=organization_id, fingerprint=fingerprint)
        if open_alert is not None and end >= open_alert.starts_at:
            row, changed = alert_resolve(alert=open_alert, ends_at=ends_at, now=now)
            return row, "resolved" if changed else "unchanged"
        row, created = alert_record_resolved(
            organization_id=organization_id, fingerprint=fingerprint, ends_at=ends_at, now=now, **fields
        )
        return row, "kept" if created else "unchanged"


def alert_acknowledge(*, alert: AlertHistory, by, now: dt.datetime) -> tuple[AlertHistory, bool]:
    """Acknowledge an open alert; returns ``(alert, changed)``.

    ``by``: the acknowledging user (or None for the system); ``now`` an aware datetime. A firing,
    escalated or suppressed alert becomes ``acknowledged`` (``acknowledged_at = now``,
    ``acknowledged_by = by``) and its pending notifications are cancelled (someone is on it); an alert
    already acknowledged is left as it is (``changed`` False). Raises AlertStateError (key ``status``)
    for a resolved alert.
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
        alert_notifications_cancel(alert=alert, reason="acknowledged before this was sent", now=now)
        return alert, True


def alert_escalate(*, alert: AlertHistory, now: dt.datetime) -> bool:
    """Mark a ``firing`` alert ``escalated`` (its first escalation step was taken); True if this call did.

    A conditional UPDATE on ``status = 'firing'``, so two escalation runners mark it once. Used by
    ``incidents.escalation``, which pages for it.
    """
    done = AlertHistory.objects.filter(pk=alert.pk, status=AlertHistory.Status.FIRING).update(
        status=AlertHistory.Status.ESCALATED
    )
    if done:
        alert.status = AlertHistory.Status.ESCALATED
    return bool(done)


def integration_create(
    *, kind: str, name: str, organization_id: uuid.UUID | None = None
) -> tuple[AlertIntegration, str]:
    """Create an inbound integration and its bearer token; returns ``(integration, token)``.

    The token (``wsi_`` + 43 URL-safe characters, 256 bits) is returned once: only its SHA-256
    (``token_hash``) and its first 12 characters (``token_prefix``) are stored. ``organization_id``
    None makes a platform-wide integration (alerts name their organization by the ``organization``
    label). Raises ValidationError (key ``kind``) for an unknown kind, (key ``name``) for an empty or
    over-long name.
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
