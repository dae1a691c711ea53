"""Automated recovery (WS-259 ``auto_recovery_logs``, issue 18 §3): runbook steps the portal runs when an alert fires.

A runbook (``incidents.models.Runbook``) may carry automated actions (``RecoveryAction``): an HTTP call
to an allow-listed internal endpoint (``conf.AUTO_RECOVERY_HTTP_ALLOWLIST``), sent through the SSRF-safe
outbound client ``wedsync_ops.outbound`` as a trusted target, or a Celery task from ``conf.AUTO_RECOVERY_TASKS``.

- ``recovery_start`` (beat, every 15 s): every firing alert that started firing in the last
  ``conf.AUTO_RECOVERY_START_WITHIN_MINUTES`` and whose best-matching runbook (``incidents.selectors.
  runbooks_matching``: service / alertname labels) has enabled actions gets one ``AutoRecoveryLog`` per
  action (once: unique per action and alert). While the organization's wedding-day protocol is on an
  ``off_wedding_days`` action is ``skipped`` and an ``approval_on_wedding_days`` one waits for an on-call
  person (``recovery_approve``); the rest are ``pending`` and run at once (``incidents.tasks.run_recovery_action``).
- ``recovery_run``: claims a pending log (``FOR UPDATE SKIP LOCKED``: once), runs the action, records the
  outcome, the HTTP status and the duration (ms), and opens the recovery window
  (``recovery_window_minutes``).
- ``recovery_check`` (beat, every 30 s): a run whose alert resolved within its window ``recovered``; one
  whose window passed with the alert still open did not, and says so. Escalation is never held back by an
  action: an alert that does not recover escalates as usual on its own clock.

Every decision and outcome is a ``recovery`` entry on the timeline of the alert's incident.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse

from django.core.exceptions import ValidationError
from django.db import transaction

from wedsync_ops.tenancy.wedding_day import wedding_day

from . import conf
from .models import AutoRecoveryLog, Incident, IncidentUpdate, RecoveryAction


def action_target_problem(*, kind: str, target: str) -> str:
    """Why ``target`` may not be an action of ``kind`` (``""``: it may).

    http: an ``http``/``https`` URL starting with one of ``conf.AUTO_RECOVERY_HTTP_ALLOWLIST`` (compared
    by scheme, host, port and path prefix, so ``https://ops.example/restart`` does not allow
    ``https://ops.example.evil/``), and acceptable to ``wedsync_ops.outbound.outbound_url_problem``
    (trusted; not resolved here). task: one of ``conf.AUTO_RECOVERY_TASKS``.
    """
    from wedsync_ops.outbound import outbound_url_problem

    if kind == RecoveryAction.Kind.TASK:
        return "" if target in conf.AUTO_RECOVERY_TASKS else "not an allow-listed task (AUTO_RECOVERY_TASKS)"
    if kind != RecoveryAction.Kind.HTTP:
        return "kind must be http or task"
    try:
        url = urllib.parse.urlsplit(target)
    except ValueError:
        return "not a URL"
    for prefix in conf.AUTO_RECOVERY_HTTP_ALLOWLIST:
        allowed = urllib.parse.urlsplit(prefix)
        if (url.scheme, url.netloc.lower()) == (allowed.scheme, allowed.netloc.lower()) and url.path.startswith(
            allowed.path or "/"
        ):
            return outbound_url_problem(target, trusted=True, resolve=False)
    return "not under an allow-listed endpoint (AUTO_RECOVERY_HTTP_ALLOWLIST)"


def _timeline(log: AutoRecoveryLog, message: str, now: dt.datetime) -> None:
    if log.incident_id:
        IncidentUpdate.objects.create(
            organization_id=log.organization_id,
            incident_id=log.incident_id,
            kind=IncidentUpdate.Kind.RECOVERY,
            message=message,
            vendor_visible=False,
            created_at=now,
        )


def _describe(action: RecoveryAction) -> str:
    what = f"{action.method} {action.target}" if action.kind == RecoveryAction.Kind.HTTP else f"task {action.target}"
    return f"Automated action '{action.name}' ({what})"


def recovery_start(*, now: dt.datetime) -> dict:
    """Create the logs of the firing alerts' automated actions and queue the runnable ones (see the module).

    Runs in the caller's context (the beat: service). Returns ``{"pending": n, "awaiting_approval": n,
    "skipped": n}`` of the logs created; their ids to run are queued after commit.
    """
    from alerts.models import AlertHistory

    from .selectors import runbooks_matching
    from .tasks import run_recovery_action

    counts = {"pending": 0, "awaiting_approval": 0, "skipped": 0}
    since = now - dt.timedelta(minutes=conf.AUTO_RECOVERY_START_WITHIN_MINUTES)
    # The escalation clock: when the portal saw the alert fire (or a silence released it).
    alerts = list(
        AlertHistory.objects.filter(
            status="firing", escalation_clock_at__gt=since, escalation_clock_at__lte=now
        ).order_by("escalation_clock_at", "id")[:500]
    )
    if not alerts or not RecoveryAction.objects.filter(enabled=True).exists():
        return counts
    done = set(AutoRecoveryLog.objects.filter(alert_id__in=[a.pk for a in alerts]).values_list("action_id", "alert_id"))
    days: dict = {}
    to_run = []
    for alert in alerts:
        runbooks = runbooks_matching(labels=alert.labels or {}, organization_id=alert.organization_id)
        actions = [a for rb in runbooks[:1] for a in rb.actions.filter(enabled=True).order_by("position", "name")]
        for action in actions:
            if (action.pk, alert.pk) in done:
                continue
            if alert.organization_id not in days:
                days[alert.organization_id] = wedding_day(organization_id=alert.organization_id, at=now)
            day = days[alert.organization_id]
            status, why = AutoRecoveryLog.Status.PENDING, "running it now"
            if day.on and action.wedding_day_policy == RecoveryAction.WeddingDayPolicy.OFF_WEDDING_DAYS:
                status, why = AutoRecoveryLog.Status.SKIPPED, f"not run on a wedding day ({day.reason})"
            elif day.on and action.wedding_day_policy == RecoveryAction.WeddingDayPolicy.APPROVAL_ON_WEDDING_DAYS:
                status, why = (
                    AutoRecoveryLog.Status.AWAITING_APPROVAL,
                    (f"waiting for an on-call person's approval ({day.reason})"),
                )
            with transaction.atomic():
                log, created = AutoRecoveryLog.objects.get_or_create(
                    action=action,
                    alert=alert,
                    defaults={
                        "organization_id": alert.organization_id,
                        "incident_id": alert.incident_id,
                        "status": status,
                        "wedding_day": day.on,
                        "created_at": now,
                        "outcome": why if status != AutoRecoveryLog.Status.PENDING else "",
                    },
                )
                if not created:
                    continue
                _timeline(log, f'{_describe(action)} for alert "{alert.title}": {why}.', now)
            counts[status] += 1
            if status == AutoRecoveryLog.Status.PENDING:
                to_run.append(str(log.pk))
    for log_id in to_run:
        transaction.on_commit(lambda log_id=log_id: run_recovery_action.delay(log_id))
    return counts


def recovery_approve(*, log: AutoRecoveryLog, by, now: dt.datetime) -> AutoRecoveryLog:
    """An on-call person approves a wedding-day run: it becomes pending and is queued; returns the log.

    ``by`` must be staff in the ``on_call`` or ``ops_admin`` group (or a superuser). Raises
    ValidationError (``status``) unless the log awaits approval, (``by``) for anyone else.
    """
    if not (
        getattr(by, "is_superuser", False)
        or (getattr(by, "is_staff", False) and by.groups.filter(name__in=["on_call", "ops_admin"]).exists())
    ):
        raise ValidationError({"by": "only an on-call person (group on_call or ops_admin) may approve"})
    from .tasks import run_recovery_action

    with transaction.atomic():
        changed = AutoRecoveryLog.objects.filter(pk=log.pk, status=AutoRecoveryLog.Status.AWAITING_APPROVAL).update(
            status=AutoRecoveryLog.Status.PENDING, approved_by=by
        )
        if not changed:
            raise ValidationError({"status": "this run is not waiting for approval"})
        fresh = AutoRecoveryLog.objects.select_related("action").get(pk=log.pk)
        _timeline(
            fresh, f"{_describe(fresh.action)}: approved by {by.get_username()} on a wedding day; running it.", now
        )
        transaction.on_commit(lambda: run_recovery_action.delay(str(log.pk)))
    return fresh


def _run_action(action: RecoveryAction, log: AutoRecoveryLog) -> tuple[bool, int | None, str]:
    """Run ``action``: ``(succeeded, http status or None, outcome text)``; never raises for the action's failure."""
    if action.kind == RecoveryAction.Kind.TASK:
        if action.target not in conf.AUTO_RECOVERY_TASKS:
            return False, None, "refused: the task is no longer allow-listed"
        from celery import current_app

        result = current_app.send_task(action.target, kwargs=dict(action.payload or {}))
        return True, None, f"task {action.target} queued (id {result.id})"
    problem = action_target_problem(kind=action.kind, target=action.target)
    if problem:
        return False, None, f"refused: {problem}"
    from requests import RequestException

    from wedsync_ops.outbound import outbound_request

    try:
        response = outbound_request(
            action.method,
            action.target,
            timeout=action.timeout_seconds,
            trusted=True,
            json={"alert": str(log.alert_id), **(action.payload or {})},
        )
    except RequestException as exc:
        return False, None, f"{type(exc).__name__}: {str(exc)[:300]}"
    ok = 200 <= response.status_code < 300
    return ok, response.status_code, f"HTTP {response.status_code}" + ("" if ok else f": {response.text[:200]}")


def recovery_run(*, log_id, now: dt.datetime) -> AutoRecoveryLog | None:
    """Run a pending log's action once (claimed with ``FOR UPDATE SKIP LOCKED``); returns the log, or None.

    None: the log is not pending (another worker took it, or it awaits approval). Records ``status``
    (succeeded / failed), ``http_status``, ``duration_ms``, ``outcome``, ``started_at``/``finished_at`` and
    ``window_ends_at`` = finish + ``recovery_window_minutes``, and a timeline entry.
    """
    with transaction.atomic():
        claimed = (
            AutoRecoveryLog.objects.select_for_update(skip_locked=True)
            .filter(pk=log_id, status=AutoRecoveryLog.Status.PENDING)
            .values_list("pk", flat=True)
            .first()
        )
        if claimed is None:
            return None
        AutoRecoveryLog.objects.filter(pk=log_id).update(status=AutoRecoveryLog.Status.RUNNING, started_at=now)
    log = AutoRecoveryLog.objects.select_related("action", "alert").get(pk=log_id)
    started = time.perf_counter()
    ok, http_status, outcome = _run_action(log.action, log)
    duration_ms = (time.perf_counter() - started) * 1000.0
    finished = now + dt.timedelta(milliseconds=duration_ms)
    window_ends = finished + dt.timedelta(minutes=log.action.recovery_window_minutes)
    with transaction.atomic():
        AutoRecoveryLog.objects.filter(pk=log_id).update(
            status=AutoRecoveryLog.Status.SUCCEEDED if ok else AutoRecoveryLog.Status.FAILED,
            http_status=http_status,
            duration_ms=duration_ms,
            outcome=outcome,
            finished_at=finished,
            window_ends_at=window_ends,
        )
        log.refresh_from_db()
        _timeline(
            log,
            f"{_describe(log.action)} {'ran' if ok else 'failed'}: {outcome} in {duration_ms:.0f} ms"
            + (
                f"; waiting until {window_ends:%H:%M:%S} UTC for the alert to resolve."
                if ok
                else "; escalation goes on as usual."
            ),
            finished,
        )
    return log


def recovery_check(*, now: dt.datetime) -> dict:
    """Decide ``recovered`` for finished runs: the alert resolved by ``window_ends_at`` (True) or not, once
    the window has passed (False). Returns ``{"recovered": n, "not_recovered": m}``."""
    counts = {"recovered": 0, "not_recovered": 0}
    open_runs = list(
        AutoRecoveryLog.objects.filter(
            status__in=[AutoRecoveryLog.Status.SUCCEEDED, AutoRecoveryLog.Status.FAILED], recovered__isnull=True
        )
        .select_related("alert", "action")
        .order_by("window_ends_at")[:500]
    )
    for log in open_runs:
        alert = log.alert
        resolved_in_time = (
            alert.status == "resolved" and alert.resolved_at is not None and alert.resolved_at <= log.window_ends_at
        )
        if not resolved_in_time and now < log.window_ends_at:
            continue
        with transaction.atomic():
            if not AutoRecoveryLog.objects.filter(pk=log.pk, recovered__isnull=True).update(recovered=resolved_in_time):
                continue
            if resolved_in_time:
                counts["recovered"] += 1
                _timeline(
                    log,
                    f'{_describe(log.action)} recovered alert "{alert.title}": resolved at '
                    f"{alert.resolved_at:%H:%M:%S} UTC, within its {log.action.recovery_window_minutes}"
                    "-minute window.",
                    now,
                )
            else:
                counts["not_recovered"] += 1
                _timeline(
                    log,
                    f'{_describe(log.action)} did not recover alert "{alert.title}" within '
                    f"{log.action.recovery_window_minutes} min; escalation goes on as usual.",
                    now,
                )
    return counts


def recovery_logs_for_incident(incident: Incident) -> list[AutoRecoveryLog]:
    """The automated runs of the incident's alerts, newest first (for its page)."""
    return list(
        AutoRecoveryLog.objects.filter(incident_id=incident.pk)
        .select_related("action", "alert", "approved_by")
        .order_by("-created_at")
    )
