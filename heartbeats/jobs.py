"""The portal's own beat jobs: what ``CELERY_BEAT_SCHEDULE`` promises, and a ``job_runs`` row per run.

No app's task is edited: Celery's ``task_prerun``, ``task_failure`` and
``task_postrun`` signals (connected in every process by
``HeartbeatsConfig.ready``) write one ``job_runs`` row for each run of a task
named in ``CELERY_BEAT_SCHEDULE`` (``job_run_start`` / ``job_run_finish``, the
only writers of that table). A failure to record never fails the task: it is
logged and the task goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .models import JobRun

logger = logging.getLogger(__name__)

RESULT_MAX_CHARS = 2000
# Tasks whose return value is the id of the one row they wrote, not a count.
RESULT_IS_ROW_ID = frozenset({"dbmonitor.tasks.snapshot", "apm.tasks.capture_system_health_snapshot"})
OUTCOME_BY_STATE = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}


@dataclass(frozen=True)
class BeatJob:
    """One ``CELERY_BEAT_SCHEDULE`` entry: ``name``, ``task``, and either ``every_s`` (an interval, s)
    or ``cron`` (a Celery crontab as a 5-field cron expression, in ``CELERY_TIMEZONE``)."""

    name: str
    task: str
    every_s: float | None = None
    cron: str = ""

    def period_s(self, around: dt.datetime) -> float:
        """The job's period (s): its interval, or the gap between the two cron times after ``around``."""
        if self.every_s is not None:
            return self.every_s
        from .schedule import cron_period_s

        return cron_period_s(self.cron, settings.CELERY_TIMEZONE or "UTC", around)

    def due_after(self, started_at: dt.datetime) -> dt.datetime:
        """When the run after one started at ``started_at`` is due."""
        if self.every_s is not None:
            return started_at + dt.timedelta(seconds=self.every_s)
        from .schedule import cron_next

        return cron_next(self.cron, settings.CELERY_TIMEZONE or "UTC", started_at)

    def describe(self) -> str:
        """``every 60 s`` or ``cron 41 * * * *``."""
        if self.every_s is not None:
            return f"every {self.every_s:g} s"
        return f"cron {self.cron}"


def _crontab_expression(schedule) -> str:
    """A Celery ``crontab`` as ``minute hour day-of-month month day-of-week`` (its original field texts)."""
    return " ".join(
        str(getattr(schedule, f"_orig_{name}"))
        for name in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    )


def beat_jobs() -> dict[str, BeatJob]:
    """Every ``CELERY_BEAT_SCHEDULE`` entry as a BeatJob, by entry name (intervals: number, timedelta,
    ``celery.schedules.schedule``; crontabs; other schedule kinds are skipped with a warning)."""
    from celery.schedules import crontab
    from celery.schedules import schedule as interval

    jobs = {}
    for name, entry in (getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {}).items():
        sched, task = entry.get("schedule"), entry.get("task", "")
        if isinstance(sched, (int, float)) and not isinstance(sched, bool):
            jobs[name] = BeatJob(name=name, task=task, every_s=float(sched))
        elif isinstance(sched, dt.timedelta):
            jobs[name] = BeatJob(name=name, task=task, every_s=sched.total_seconds())
        elif isinstance(sched, crontab):
            jobs[name] = BeatJob(name=name, task=task, cron=_crontab_expression(sched))
        elif isinstance(sched, interval):
            jobs[name] = BeatJob(name=name, task=task, every_s=sched.run_every.total_seconds())
        else:
            logger.warning("beat entry %s: schedule %r is not watched (not an interval or a crontab)", name, sched)
    return jobs


def job_for_task(task_name: str) -> str | None:
    """The beat entry name that runs ``task_name`` (the first, by name), or None for a task beat does not run."""
    names = sorted(job.name for job in beat_jobs().values() if job.task == task_name)
    return names[0] if names else None


def rows_from_result(task_name: str, result) -> int | None:
    """Rows a run handled, read from its return value: an int; a dict's numeric values summed (the counts
    tasks return, e.g. ``{"fired": 2, "resolved": 1}``); a list's length; 1 for a task that returns the id
    of the row it wrote (``RESULT_IS_ROW_ID``); None when the value says nothing."""
    if task_name in RESULT_IS_ROW_ID:
        return None if result is None else 1
    if isinstance(result, bool):
        return None
    if isinstance(result, int):
        return result
    if isinstance(result, dict):
        numbers = [v for v in result.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return int(sum(numbers)) if numbers else None
    if isinstance(result, (list, tuple)):
        return len(result)
    return None


def _json_safe(result):
    """``result`` as JSON-serialisable data, cut to RESULT_MAX_CHARS characters (as a string when cut or odd)."""
    try:
        text = json.dumps(result, default=str)
    except (TypeError, ValueError):
        text = json.dumps(repr(result))
    if len(text) > RESULT_MAX_CHARS:
        return text[:RESULT_MAX_CHARS]
    return json.loads(text)


def job_run_start(*, job: str, task: str, task_id: str, now: dt.datetime, worker: str = "") -> int:
    """Write a ``running`` row for a run that starts at ``now``; returns its id. Needs a staff or service context."""
    run = JobRun.objects.create(
        job=job[:200], task=task[:200], task_id=(task_id or "")[:100], worker=worker[:200], started_at=now
    )
    return run.pk


def job_run_finish(
    *, run_id: int, now: dt.datetime, outcome: str, duration_ms: float, result=None, error: str = ""
) -> int:
    """End a run: ``finished_at``, ``duration_ms`` (ms), ``outcome`` (``JobRun.Outcome``), ``rows_handled``
    and ``result`` from the return value, ``error`` (cut to 2,000). Returns rows changed (0: unknown id)."""
    run = JobRun.objects.filter(pk=run_id).only("task").first()
    if run is None:
        return 0
    return JobRun.objects.filter(pk=run_id).update(
        finished_at=now,
        duration_ms=duration_ms,
        outcome=outcome,
        rows_handled=rows_from_result(run.task, result),
        result=_json_safe(result) if result is not None else None,
        error=(error or "")[:2000],
    )


# --- Celery signals -------------------------------------------------------------------------

_running: dict[str, tuple[int, float]] = {}  # task id -> (job_runs id, monotonic start)
_errors: dict[str, str] = {}


def _on_prerun(sender=None, task_id=None, task=None, **kwargs):
    from wedsync_ops.tenancy.context import service_context

    name = getattr(task, "name", "")
    job = job_for_task(name)
    if job is None:
        return
    try:
        with service_context():
            run_id = job_run_start(
                job=job, task=name, task_id=task_id or "", now=timezone.now(), worker=socket.gethostname()
            )
    except Exception:  # noqa: BLE001 - recording must never fail the job
        logger.exception("could not record the start of %s (%s)", job, task_id)
        return
    _running[task_id] = (run_id, time.monotonic())


def _on_failure(sender=None, task_id=None, exception=None, **kwargs):
    if task_id in _running:
        _errors[task_id] = f"{type(exception).__name__}: {exception}"


def _on_postrun(sender=None, task_id=None, task=None, retval=None, state=None, **kwargs):
    from wedsync_ops.tenancy.context import service_context

    started = _running.pop(task_id, None)
    error = _errors.pop(task_id, "")
    if started is None:
        return
    run_id, t0 = started
    outcome = OUTCOME_BY_STATE.get(state or "", "failure")
    try:
        with service_context():
            job_run_finish(
                run_id=run_id,
                now=timezone.now(),
                outcome=outcome,
                duration_ms=(time.monotonic() - t0) * 1000.0,
                result=None if outcome == "failure" else retval,
                error=error,
            )
    except Exception:  # noqa: BLE001 - recording must never fail the job
        logger.exception("could not record the end of job run %s", run_id)


def connect_signals() -> None:
    """Connect the recorders to Celery's task signals (idempotent: fixed dispatch uids)."""
    from celery import signals

    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="heartbeats_job_prerun")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="heartbeats_job_failure")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="heartbeats_job_postrun")
