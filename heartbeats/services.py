"""State changes of heartbeat checks: create, edit, pause, delete, ping, the beat tick, the Watchdog, retention.

Semantics are healthchecks.io's (``hc/api/models.py`` ``Check.ping`` and
``get_status``), with ``late`` stored as a state: a success ping makes a check
``up`` and sets when the next one is due; past that it is ``late``; past the
grace (the stricter wedding-day grace while the organization's wedding-day
protocol is on) it is ``down``; a ``fail`` ping or a non-zero exit status
makes it ``down`` at once; a ``start`` ping measures the run and a run not
ended within the grace is ``down``. Going down fires an ordinary alert
(``alerts.services.alert_fire``: routing, silences, incidents and escalation
apply); the next success resolves it (``alert_resolve``).

Every function runs in the caller's tenant context (row-level security
applies) and in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from alerts.models import AlertHistory
from alerts.services import alert_fire, alert_resolve, require_aware
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.wedding_day import wedding_day as organization_wedding_day

from . import conf
from .models import HeartbeatCheck, HeartbeatFlip, HeartbeatPing, JobRun
from .schedule import human_seconds, next_expected_after, schedule_validate

logger = logging.getLogger(__name__)

Status = HeartbeatCheck.Status
ALERT_SOURCE = AlertHistory.Source.HEARTBEAT
ALERTNAME = "HeartbeatDown"
CHECK_EDITABLE_FIELDS = (
    "name",
    "description",
    "kind",
    "period_s",
    "cron",
    "timezone",
    "grace_s",
    "wedding_day_grace_s",
    "severity",
    "priority",
)
SCHEDULE_FIELDS = ("kind", "period_s", "cron", "timezone", "grace_s", "wedding_day_grace_s")


def check_fingerprint(check: HeartbeatCheck) -> str:
    """The alert identity of a check: ``heartbeat:<check id>`` (46 characters)."""
    return f"heartbeat:{check.pk}"


def check_validate(check: HeartbeatCheck) -> HeartbeatCheck:
    """Validate a (possibly unsaved) check's editable fields in place (admin and services); returns it.

    Raises ValidationError keyed by field: name 1–100 characters, severity and
    priority of their enums, and the schedule (``schedule.schedule_validate``).
    """
    name = (check.name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "a name of 1 to 100 characters is required"})
    check.name = name
    if check.severity not in AlertSeverity.values:
        raise ValidationError({"severity": f"one of {', '.join(AlertSeverity.values)}"})
    if check.priority not in AlertPriority.values:
        raise ValidationError({"priority": f"one of {', '.join(AlertPriority.values)}"})
    cleaned = schedule_validate(
        kind=check.kind,
        period_s=check.period_s,
        cron=check.cron,
        tz_name=check.timezone,
        grace_s=check.grace_s,
        wedding_day_grace_s=check.wedding_day_grace_s,
    )
    for field, value in cleaned.items():
        setattr(check, field, value)
    return check


def _next_expected(check: HeartbeatCheck, last_ping_at: dt.datetime) -> dt.datetime:
    return next_expected_after(
        kind=check.kind, period_s=check.period_s, cron=check.cron, tz_name=check.timezone, last_ping_at=last_ping_at
    )


def _flip(check: HeartbeatCheck, *, new_status: str, reason: str, at: dt.datetime, wedding_day: bool = False) -> None:
    """Record a state change (``heartbeat_flips``) and set ``check.status`` / ``status_changed_at``."""
    HeartbeatFlip.objects.create(
        heartbeat_check=check,
        organization_id=check.organization_id,
        flipped_at=at,
        old_status=check.status,
        new_status=new_status,
        reason=reason,
        wedding_day=wedding_day,
    )
    check.status = new_status
    check.status_changed_at = at


def check_create(*, organization_id: uuid.UUID | None, now: dt.datetime, created_by=None, **fields) -> HeartbeatCheck:
    """Validate and create a check (status ``new``, a fresh ping uuid); returns it.

    ``organization_id`` None: a platform check (staff contexts only, by
    policy). ``fields``: any of ``CHECK_EDITABLE_FIELDS`` (defaults: a
    period of 1 day, grace 1 hour, like healthchecks.io; ``timezone`` the
    organization's). Raises ValidationError keyed by field before anything
    is written.
    """
    require_aware("now", now)
    unknown = set(fields) - set(CHECK_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "not an editable field"})
    if "timezone" not in fields and organization_id is not None:
        from wedsync_ops.tenancy.models import Organization

        fields["timezone"] = (
            Organization.objects.filter(pk=organization_id).values_list("timezone", flat=True).first() or "UTC"
        )
    check = check_validate(HeartbeatCheck(organization_id=organization_id, **fields))
    check.created_by = created_by if getattr(created_by, "pk", None) else None
    check.status_changed_at = now
    check.save()
    return check


def check_update(*, check: HeartbeatCheck, now: dt.datetime, **fields) -> HeartbeatCheck:
    """Validate and apply ``fields`` (of ``CHECK_EDITABLE_FIELDS``); the organization and ping URL never change.

    A changed schedule of an ``up``/``late`` check recomputes when the next
    ping is due from its last ping, and a late check that is no longer past
    it is ``up`` again (flip reason ``edited``). Raises ValidationError keyed
    by field.
    """
    require_aware("now", now)
    unknown = set(fields) - set(CHECK_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "not an editable field"})
    with transaction.atomic():
        locked = HeartbeatCheck.objects.select_for_update().get(pk=check.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        check_validate(locked)
        if locked.status in (Status.UP, Status.LATE) and locked.last_ping_at is not None:
            locked.next_expected_at = _next_expected(locked, locked.last_ping_at)
            if locked.status == Status.LATE and locked.next_expected_at > now:
                _flip(locked, new_status=Status.UP, reason="edited", at=now)
        locked.save()
    return locked


def check_pause(*, check: HeartbeatCheck, now: dt.datetime) -> HeartbeatCheck:
    """Pause a check: no late or down until its next ping (which resumes it); its open alert resolves.

    Returns the check (already paused: unchanged).
    """
    require_aware("now", now)
    with transaction.atomic():
        locked = HeartbeatCheck.objects.select_for_update().get(pk=check.pk)
        if locked.status == Status.PAUSED:
            return locked
        _flip(locked, new_status=Status.PAUSED, reason="paused", at=now)
        locked.next_expected_at = None
        locked.last_start_at = None
        locked.save(update_fields=["status", "status_changed_at", "next_expected_at", "last_start_at", "updated_at"])
        _resolve_alert(locked, now=now)
    return locked


def check_delete(*, check: HeartbeatCheck, now: dt.datetime) -> None:
    """Delete a check with its pings and flips; its open alert resolves first (nobody can ping it any more)."""
    require_aware("now", now)
    with transaction.atomic():
        locked = HeartbeatCheck.objects.select_for_update().get(pk=check.pk)
        _resolve_alert(locked, now=now)
        locked.delete()


# --- pings ------------------------------------------------------------------------------


def _body_text(body: bytes) -> tuple[str, int]:
    """The first PING_BODY_LIMIT bytes of ``body`` as text (invalid UTF-8 replaced, NULs dropped), and its length."""
    return body[: conf.PING_BODY_LIMIT].decode("utf-8", errors="replace").replace("\x00", ""), len(body)


def ping_record(
    *,
    check: HeartbeatCheck,
    kind: str,
    now: dt.datetime,
    exit_status: int | None = None,
    body: bytes = b"",
    method: str = "",
    scheme: str = "",
    remote_addr: str | None = None,
    user_agent: str = "",
    rid: uuid.UUID | None = None,
    via: str = HeartbeatPing.Via.HTTP,
) -> HeartbeatPing:
    """Record one ping of ``check`` and apply it; returns the ping row.

    ``kind`` (``HeartbeatPing.Kind``), as healthchecks.io's ``Check.ping``:

    - ``start``: a run began (``last_start_at = now``, ``last_start_rid = rid``); the state is unchanged.
    - ``success`` / ``fail``: ``last_ping_at = now``; a run started before
      with the same ``rid`` (or any, when the ping has no rid, or on fail)
      ends and its duration (ms) is kept; the check becomes ``up`` (when
      the next ping is due is computed from now) or ``down``. Down→up
      resolves the check's open alert; anything→down fires one.
    - ``log``: kept in the ping log only.

    A paused check is resumed by any ping but ``log``. ``body``: the request
    body (first ``HEARTBEAT_PING_BODY_LIMIT`` bytes kept, as text);
    ``exit_status`` 0–255 or None. The check row is locked, so concurrent
    pings of one check apply in order. Raises ValidationError for an unknown
    kind or an exit status out of range.
    """
    require_aware("now", now)
    if kind not in HeartbeatPing.Kind.values:
        raise ValidationError({"kind": f"one of {', '.join(HeartbeatPing.Kind.values)}"})
    if exit_status is not None and not 0 <= exit_status <= 255:
        raise ValidationError({"exit_status": "between 0 and 255"})
    text, size = _body_text(body)
    with transaction.atomic():
        locked = HeartbeatCheck.objects.select_for_update().get(pk=check.pk)
        duration_ms = None
        old_status = locked.status
        if kind == HeartbeatPing.Kind.START:
            locked.last_start_at, locked.last_start_rid = now, rid
            if locked.status == Status.PAUSED:
                _flip(locked, new_status=Status.NEW, reason="resumed", at=now)
        elif kind in (HeartbeatPing.Kind.SUCCESS, HeartbeatPing.Kind.FAIL):
            locked.last_ping_at = now
            locked.last_exit_status = exit_status
            if locked.last_start_at is not None:
                if locked.last_start_rid == rid:
                    duration_ms = (now - locked.last_start_at).total_seconds() * 1000.0
                    locked.last_start_at, locked.last_start_rid = None, None
                elif kind == HeartbeatPing.Kind.FAIL or rid is None:
                    locked.last_start_at, locked.last_start_rid = None, None
            locked.last_duration_ms = duration_ms
            if kind == HeartbeatPing.Kind.FAIL:
                locked.next_expected_at = None
                if locked.status != Status.DOWN:
                    _flip(locked, new_status=Status.DOWN, reason="fail", at=now)
            else:
                locked.next_expected_at = _next_expected(locked, now)
                if locked.status != Status.UP:
                    _flip(locked, new_status=Status.UP, reason="ping", at=now)
        locked.n_pings += 1  # the row is locked: no lost update
        locked.save()
        ping = HeartbeatPing.objects.create(
            heartbeat_check=locked,
            organization_id=locked.organization_id,
            n=locked.n_pings,
            received_at=now,
            kind=kind,
            exit_status=exit_status,
            via=via,
            method=method[:10],
            scheme=scheme[:10],
            remote_addr=remote_addr or None,
            user_agent=user_agent[:200],
            rid=rid,
            body=text,
            body_bytes=size,
            duration_ms=duration_ms,
        )
        if old_status != Status.DOWN and locked.status == Status.DOWN:
            reason = f"exit status {exit_status}" if exit_status else "a fail ping"
            _fire_alert(locked, started=now, now=now, why=f"{reason} at {now:%Y-%m-%d %H:%M} UTC", value=exit_status)
        elif old_status == Status.DOWN and locked.status == Status.UP:
            _resolve_alert(locked, now=now)
    return ping


# --- alerts -------------------------------------------------------------------------------


def _organization_slug(check: HeartbeatCheck) -> str:
    if check.organization_id is None:
        return ""
    if HeartbeatCheck.organization.is_cached(check) and check.organization is not None:
        return check.organization.slug
    from wedsync_ops.tenancy.models import Organization

    return Organization.objects.filter(pk=check.organization_id).values_list("slug", flat=True).first() or ""


def check_page_url(check: HeartbeatCheck, slug: str) -> str:
    """The check's page in the portal: ``/org/<slug>/heartbeats/<id>/`` or ``/ops/heartbeats/<id>/`` (absolute)."""
    from django.conf import settings

    path = f"/org/{slug}/heartbeats/{check.pk}/" if slug else f"/ops/heartbeats/{check.pk}/"
    return f"{settings.PORTAL_BASE_URL}{path}"


def _fire_alert(
    check: HeartbeatCheck,
    *,
    started: dt.datetime,
    now: dt.datetime,
    why: str,
    value: float | None = None,
    grace_s: int | None = None,
    threshold_reason: str = "",
) -> tuple[AlertHistory, bool]:
    """Fire the check's down alert (``alert_fire``, source ``heartbeat``, grouped per organization)."""
    slug = _organization_slug(check)
    title = f"Heartbeat down: {check.name}"
    labels = {
        "alertname": ALERTNAME,
        "check": check.name,
        "check_id": str(check.pk),
        "organization": slug,
        "kind": check.kind,
        "severity": check.severity,
    }
    if check.watchdog_integration_id:
        labels["watchdog"] = "true"
    description = f"{check.name}: {why}."
    return alert_fire(
        organization_id=check.organization_id,
        fingerprint=check_fingerprint(check),
        source=ALERT_SOURCE,
        title=title,
        labels=labels,
        annotations={"summary": f"{title} ({why})", "description": description},
        severity=check.severity,
        priority=check.priority,
        starts_at=started,
        now=now,
        value=value,
        threshold=float(grace_s) if grace_s is not None else None,
        threshold_reason=threshold_reason,
        group_key=f'{{}}:{{alertname="{ALERTNAME}",organization="{slug}"}}',
        generator_url=check_page_url(check, slug),
        description=description,
    )


def _resolve_alert(check: HeartbeatCheck, *, now: dt.datetime) -> bool:
    """Resolve the check's open alert, if any; True when one was resolved."""
    alert = AlertHistory.objects.filter(  # type: ignore[misc]  # None: IS NULL, which django-stubs does not model
        organization_id=check.organization_id,
        fingerprint=check_fingerprint(check),
        status__in=AlertHistory.OPEN_STATUSES,
    ).first()
    if alert is None:
        return False
    return alert_resolve(alert=alert, ends_at=now, now=now)[1]


def checks_evaluate(*, now: dt.datetime) -> dict[str, int]:
    """One beat tick: SQL ``heartbeat_checks_evaluate(now)`` flips every check that turned late or down, set-based;
    then an alert fires for each check that went down (and only those).

    Returns ``{"late": n, "down": m, "up": k, "alerts_fired": f}``. Needs a
    service context; one transaction (a ping of a check being flipped waits
    for it, then applies on top). Raises ValidationError for a naive ``now``.
    """
    require_aware("now", now)
    counts = {"late": 0, "down": 0, "up": 0, "alerts_fired": 0}
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT check_id, new_status, reason, flipped_at, wedding_day, grace_s"
                " FROM heartbeat_checks_evaluate(%s)",
                [now],
            )
            changed = cur.fetchall()
        down = {}
        for check_id, new_status, reason, flipped_at, wedding_day, grace_s in changed:
            counts[new_status] = counts.get(new_status, 0) + 1
            if new_status == Status.DOWN:
                down[check_id] = (reason, flipped_at, wedding_day, grace_s)
        protocols = {}  # organization id -> the wedding-day reason, asked once per organization
        for check in HeartbeatCheck.objects.filter(pk__in=list(down)).select_related("organization"):
            reason, flipped_at, wedding_day, grace_s = down[check.pk]
            grace = human_seconds(grace_s)
            if reason == "run_timeout":
                why = f"run started {check.last_start_at:%Y-%m-%d %H:%M} UTC did not end within {grace}"
            else:
                since = f"{check.last_ping_at:%Y-%m-%d %H:%M} UTC" if check.last_ping_at else "never"
                why = f"no ping since {since}; expected by {check.next_expected_at:%H:%M} UTC + {grace}"
            threshold_reason = f"grace {human_seconds(grace_s)}"
            if wedding_day:
                if check.organization_id not in protocols:
                    protocols[check.organization_id] = organization_wedding_day(
                        organization_id=check.organization_id, at=now
                    ).reason
                protocol = protocols[check.organization_id]
                threshold_reason = f"wedding-day grace {grace} ({protocol or 'wedding day'})"
            lateness = (now - check.next_expected_at).total_seconds() if check.next_expected_at else None
            _alert, created = _fire_alert(
                check,
                started=flipped_at,
                now=now,
                why=why,
                value=lateness,
                grace_s=grace_s,
                threshold_reason=threshold_reason,
            )
            counts["alerts_fired"] += created
    return counts


# --- the Alertmanager Watchdog --------------------------------------------------------------


def watchdog_ping(*, integration, status: str, now: dt.datetime) -> HeartbeatPing:
    """Record an arrival of an integration's ``Watchdog`` alert as a ping of its Watchdog check.

    The check (``watchdog_integration = integration``, organization the
    integration's, critical/high) is created on the first arrival with a
    period of ``HEARTBEAT_WATCHDOG_PERIOD_S`` and a grace of
    ``HEARTBEAT_WATCHDOG_GRACE_S``: when the Watchdog stops arriving for
    period + grace the check goes down and a critical alert fires. A
    ``resolved`` Watchdog (Prometheus stopped sending it) is a fail ping: down at once.
    """
    check = HeartbeatCheck.objects.filter(watchdog_integration=integration).first()
    if check is None:
        check = check_validate(
            HeartbeatCheck(
                organization_id=integration.organization_id,
                watchdog_integration=integration,
                name=f"Alertmanager Watchdog: {integration.name}"[:100],
                description="The always-firing Watchdog alert of this Alertmanager (kube-prometheus convention): "
                "it stops arriving when Prometheus, Alertmanager or the path to the portal breaks.",
                kind=HeartbeatCheck.Kind.PERIOD,
                period_s=max(conf.MIN_PERIOD_S, conf.WATCHDOG_PERIOD_S),
                grace_s=max(conf.MIN_GRACE_S, conf.WATCHDOG_GRACE_S),
                severity=AlertSeverity.CRITICAL,
                priority=AlertPriority.HIGH,
                status_changed_at=now,
            )
        )
        try:
            with transaction.atomic():
                check.save()
        except IntegrityError:  # a concurrent first arrival created it: use that one
            check = HeartbeatCheck.objects.get(watchdog_integration=integration)
    kind = HeartbeatPing.Kind.SUCCESS if status == "firing" else HeartbeatPing.Kind.FAIL
    return ping_record(
        check=check,
        kind=kind,
        now=now,
        via=HeartbeatPing.Via.ALERTMANAGER,
        method="POST",
        user_agent=f"Alertmanager Watchdog ({status})",
        body=f"Watchdog {status}".encode(),
    )


def watchdog_receiver(sender, *, integration, status: str, labels: dict, now: dt.datetime, **kwargs) -> bool:
    """``alerts.signals.watchdog_received`` receiver: ``watchdog_ping``; True (the alert is taken)."""
    watchdog_ping(integration=integration, status=status, now=now)
    return True


# --- retention -----------------------------------------------------------------------------


def heartbeats_cleanup(*, now: dt.datetime) -> dict[str, int]:
    """Retention: pings beyond the newest ``HEARTBEAT_PINGS_KEPT`` of each check, flips older than
    ``HEARTBEAT_FLIPS_DAYS`` and job runs older than ``HEARTBEAT_JOB_RUNS_DAYS``.

    Returns rows deleted ``{"pings": n, "flips": m, "job_runs": k}``. Needs a service context.
    """
    require_aware("now", now)
    with transaction.atomic():
        pings = HeartbeatPing.objects.filter(n__lte=F("heartbeat_check__n_pings") - conf.PINGS_KEPT).delete()[0]
        flips = HeartbeatFlip.objects.filter(flipped_at__lt=now - dt.timedelta(days=conf.FLIPS_DAYS)).delete()[0]
        runs = JobRun.objects.filter(started_at__lt=now - dt.timedelta(days=conf.JOB_RUNS_DAYS)).delete()[0]
    return {"pings": pings, "flips": flips, "job_runs": runs}
