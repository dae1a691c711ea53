"""Reads of the heartbeats app that pages, the readiness check and the watchers share.

- ``beat_jobs_status(now)``: is every beat job running? (the newest run of
  each job younger than twice its period): for ``/health/ready``
  (``beat_liveness(now)``: the same as JSON), the worker's job watch, the
  external ping and ``/ops/jobs/``.
- ``check_strips``: the 30-day up/late/down strip of checks, from their flips.
- ``checks_with_last_pings``: checks with their newest pings, for the lists.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Min

from wedsync_ops.tenancy.context import service_context

from .jobs import BeatJob, beat_jobs
from .models import HeartbeatCheck, HeartbeatFlip, HeartbeatPing, JobRun

STALE_FACTOR = 2  # a job is stale when its newest run is older than STALE_FACTOR periods
LATE_FACTOR = 0.5  # and shown late when its next run is overdue by more than half a period (beat's jitter is less)


@dataclass(frozen=True)
class JobStatus:
    """One beat job at ``now``: its newest run and how late the next one is.

    ``period_s``, ``age_s`` (since the newest run started), ``lateness_s``
    (past the time the next run was due; 0 when not due yet) in seconds;
    ``stale``: the newest run is older than twice the period (or no run at
    all while runs have been recorded for longer than that). ``state``:
    ``ok``, ``late`` (overdue by more than half a period, not yet stale), ``stale``, ``failing`` (the newest
    run failed), ``running`` (the newest run has not ended) or ``never`` (no
    run yet, not stale).
    """

    job: BeatJob
    period_s: float
    last_started_at: dt.datetime | None
    last_finished_at: dt.datetime | None
    last_outcome: str
    last_duration_ms: float | None
    last_rows: int | None
    last_error: str
    due_at: dt.datetime | None
    age_s: float | None
    lateness_s: float
    stale: bool
    state: str


@dataclass(frozen=True)
class BeatStatus:
    """Every beat job's ``JobStatus`` at ``checked_at``; ``ok`` when none is stale; ``recording_since``:
    the oldest run kept (None: no run recorded yet)."""

    checked_at: dt.datetime
    jobs: list[JobStatus]
    recording_since: dt.datetime | None
    ok: bool = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "ok", not any(j.stale for j in self.jobs))

    @property
    def stale(self) -> list[JobStatus]:
        return [j for j in self.jobs if j.stale]


def beat_jobs_status(now: dt.datetime) -> BeatStatus:
    """Beat liveness at ``now`` (aware): for each ``CELERY_BEAT_SCHEDULE`` entry, its newest ``job_runs`` row.

    Two queries whatever the number of runs (SQL ``heartbeat_job_latest_runs``,
    one index probe per job, and the oldest run kept). Reads in a service
    context of its own (``job_runs`` is staff-only), so an anonymous
    readiness probe can call it; it exposes job names and times only.
    ``BeatStatus.ok`` is False when any job is stale (its newest run older
    than twice its period): what issue 12's ``/health/ready`` reports as
    beat liveness.
    """
    jobs = beat_jobs()
    names = sorted(jobs)
    with service_context():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT job, started_at, finished_at, outcome, duration_ms, rows_handled, error"
                " FROM heartbeat_job_latest_runs(%s)",
                [names],
            )
            latest = {row[0]: row[1:] for row in cur.fetchall()}
        since = JobRun.objects.aggregate(first=Min("started_at"))["first"]
    statuses = []
    for name in names:
        job = jobs[name]
        started, finished, outcome, duration_ms, rows, error = latest.get(name) or (None,) * 6
        period = job.period_s(now)
        if started is None:
            reference = since
            stale = reference is not None and (now - reference).total_seconds() > STALE_FACTOR * period
            statuses.append(
                JobStatus(
                    job=job,
                    period_s=period,
                    last_started_at=None,
                    last_finished_at=None,
                    last_outcome="",
                    last_duration_ms=None,
                    last_rows=None,
                    last_error="",
                    due_at=None,
                    age_s=None,
                    lateness_s=0.0,
                    stale=stale,
                    state="stale" if stale else "never",
                )
            )
            continue
        due = job.due_after(started)
        age = (now - started).total_seconds()
        lateness = max(0.0, (now - due).total_seconds())
        stale = age > STALE_FACTOR * period
        if stale:
            state = "stale"
        elif outcome == "failure":
            state = "failing"
        elif outcome == "running":
            state = "running"
        elif lateness > LATE_FACTOR * period:
            state = "late"
        else:
            state = "ok"
        statuses.append(
            JobStatus(
                job=job,
                period_s=period,
                last_started_at=started,
                last_finished_at=finished,
                last_outcome=outcome or "",
                last_duration_ms=duration_ms,
                last_rows=rows,
                last_error=error or "",
                due_at=due,
                age_s=age,
                lateness_s=lateness,
                stale=stale,
                state=state,
            )
        )
    return BeatStatus(checked_at=now, jobs=statuses, recording_since=since)


def beat_liveness(now: dt.datetime) -> dict:
    """``beat_jobs_status(now)`` as a readiness probe's JSON part (no secrets): ``{"ok": bool, "checked_at": ISO 8601,
    "jobs": n, "stale": [{"job", "task", "period_s", "last_started_at" (ISO or None), "age_s" (or None)}]}``."""
    status = beat_jobs_status(now)
    return {
        "ok": status.ok,
        "checked_at": now.isoformat(),
        "jobs": len(status.jobs),
        "stale": [
            {
                "job": j.job.name,
                "task": j.job.task,
                "period_s": j.period_s,
                "last_started_at": j.last_started_at.isoformat() if j.last_started_at else None,
                "age_s": None if j.age_s is None else round(j.age_s, 1),
            }
            for j in status.stale
        ],
    }


def job_runs_recent(job: str, *, limit: int = 100) -> list[JobRun]:
    """The newest ``limit`` runs of one beat job, newest first (caller's context: staff or service)."""
    return list(JobRun.objects.filter(job=job).order_by("-started_at")[:limit])


# --- checks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCell:
    """One day of a check's strip: ``day`` (local date), ``state`` (``down``, ``late``, ``up`` or ``none``:
    no data, new or paused), and seconds spent down and late that day."""

    day: dt.date
    state: str
    down_s: float
    late_s: float


def _day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def check_strips(checks: list[HeartbeatCheck], *, now: dt.datetime, days: int = 30, tz: dt.tzinfo = dt.UTC) -> dict:
    """``{check id: [DayCell × days]}``, oldest day first, the last being today in ``tz``.

    One query for the flips of every check in the window; the state before
    the window is the first flip's ``old_status`` (else the current status).
    A day is ``down`` if the check was down at any time of it, else ``late``
    if late at any time, else ``up`` if up at any time, else ``none``.
    """
    today = now.astimezone(tz).date()
    first_day = today - dt.timedelta(days=days - 1)
    window_start = _day_start(first_day, tz)
    flips_by_check = defaultdict(list)
    flips = (
        HeartbeatFlip.objects.filter(
            heartbeat_check__in=[c.pk for c in checks], flipped_at__gte=window_start, flipped_at__lte=now
        )
        .order_by("heartbeat_check_id", "flipped_at", "id")
        .values_list("heartbeat_check_id", "flipped_at", "old_status", "new_status")
    )
    for check_id, at, old, new in flips:
        flips_by_check[check_id].append((at, old, new))
    bounds = [_day_start(first_day + dt.timedelta(days=i), tz) for i in range(days + 1)]
    strips = {}
    for check in checks:
        changes = flips_by_check.get(check.pk, [])
        state = changes[0][1] if changes else check.status
        born = max(check.created_at or window_start, window_start)
        segments, t = [], born
        for at, _old, new in changes:
            if at > t:
                segments.append((t, at, state))
            t, state = max(t, at), new
        segments.append((t, now, state))
        per_day: list[defaultdict[str, float]] = [defaultdict(float) for _ in range(days)]
        for start, end, seg_state in segments:
            for i in range(days):
                lo, hi = max(start, bounds[i]), min(end, bounds[i + 1])
                if hi > lo:
                    per_day[i][seg_state] += (hi - lo).total_seconds()
        cells = []
        for i, spent in enumerate(per_day):
            if spent.get("down"):
                cell_state = "down"
            elif spent.get("late"):
                cell_state = "late"
            elif spent.get("up"):
                cell_state = "up"
            else:
                cell_state = "none"
            cells.append(
                DayCell(
                    day=first_day + dt.timedelta(days=i),
                    state=cell_state,
                    down_s=spent.get("down", 0.0),
                    late_s=spent.get("late", 0.0),
                )
            )
        strips[check.pk] = cells
    return strips


def checks_with_last_pings(checks: list[HeartbeatCheck], *, per_check: int = 3) -> dict:
    """``{check id: [HeartbeatPing …]}``: the newest ``per_check`` pings of each check (one query,
    through the unique index on (check, n))."""
    wanted = {c.pk: c.n_pings for c in checks}
    if not wanted:
        return {}
    from django.db.models import Q

    query = Q()
    for check_id, n in wanted.items():
        query |= Q(heartbeat_check_id=check_id, n__gt=n - per_check)
    result = defaultdict(list)
    for ping in HeartbeatPing.objects.filter(query).defer("body").order_by("heartbeat_check_id", "-n"):
        result[ping.heartbeat_check_id].append(ping)
    return result


def check_status_counts(queryset) -> dict[str, int]:
    """``{status: count}`` over a queryset of checks (every status present, 0 included)."""
    from django.db.models import Count

    counts = {s: 0 for s in HeartbeatCheck.Status.values}
    for row in queryset.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
