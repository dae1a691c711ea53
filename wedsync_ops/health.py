"""Health endpoints for load balancers and orchestrators (django-health-check's checks, JSON, no secrets).

- ``GET /health/live``: 200 ``{"status": "ok"}`` while the process can answer
  at all. No dependency is consulted: a liveness probe that fails on a
  database outage would only get healthy processes restarted.
- ``GET /health/ready``: every check of ``READY_CHECKS`` run concurrently
  (each bounded by its ``timeout``), answered as::

      {"status": "ok" | "degraded" | "unavailable",
       "checks": {"database": {"status": "ok", "required": true, "time_ms": 2.1},
                  "beat": {"status": "fail", "required": false, "time_ms": 0.8,
                           "error": "Unavailable: beat job apm-health-checks last ran 95 s ago (period 10 s)"}}}

  HTTP 503 when a check named in ``settings.HEALTH_READY_REQUIRED`` (default
  ``database``) fails, else 200 (``degraded`` when an optional one fails).
  Error texts name the failed dependency and never a URL, password or host
  credentials.

Both are served by ``HealthMiddleware``, first in ``MIDDLEWARE``: before
``ALLOWED_HOSTS`` validation (probes address a node by its IP), the HTTPS
redirect (probes speak plain HTTP inside the network), sessions and the
tenancy transaction.

Beat liveness reads job runs from the callable named by
``settings.HEALTH_BEAT_RUNS_SOURCE``: it returns ``JobRun`` values, the newest
run of each beat job; a job is stale when its newest run is older than twice
its period. The default, ``heartbeat_job_runs``, reads the heartbeats app's
``job_runs`` (one row per run, recorded as the task executes: a job is live
only when beat sent it AND a worker ran it). ``redbeat_job_runs`` reads what
beat itself stores in Redis instead (celery-redbeat: each entry's
``last_run_at`` as sent, and the lock the active beat holds).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from health_check.base import HealthCheck
from health_check.contrib.redis import Redis as RedisCheck
from health_check.exceptions import ServiceUnavailable


@dataclasses.dataclass(frozen=True)
class JobRun:
    """The newest run of one beat job: ``name``, ``last_run_at`` (aware datetime or None), ``period_s`` (s);
    ``stale`` when the source judged it itself (None: older than twice the period, or never run, is stale)."""

    name: str
    last_run_at: dt.datetime | None
    period_s: float
    stale: bool | None = None


@dataclasses.dataclass
class AppRoleDatabase(HealthCheck):
    """PostgreSQL answers, as the application role, and that role cannot bypass row-level security.

    Opens its own connection (the probe proves a new connection can be made,
    through PgBouncer when there is one) and closes it. Fails when connected as
    another role than ``settings.DB_APP_ROLE``, as a superuser, a BYPASSRLS role
    or a DBA (``app_session_is_dba()``: RLS would no longer isolate tenants).
    """

    alias: str = "default"
    timeout: dt.timedelta = dataclasses.field(default=dt.timedelta(seconds=3), repr=False)

    def run(self):
        from django import db

        conn = db.connections[self.alias]
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT current_user, r.rolsuper, r.rolbypassrls, app_session_is_dba()"
                    " FROM pg_roles r WHERE r.rolname = current_user"
                )
                user, is_super, bypass, dba = cur.fetchone()
        except db.Error as exc:
            raise ServiceUnavailable(f"PostgreSQL: {type(exc).__name__}") from None
        finally:
            conn.close()
        if user != settings.DB_APP_ROLE:
            raise ServiceUnavailable(f"connected as {user!r}, not the application role {settings.DB_APP_ROLE!r}")
        if is_super or bypass or dba:
            raise ServiceUnavailable(f"role {user!r} bypasses row-level security (superuser, BYPASSRLS or DBA)")


def _redis_client():
    from redis.asyncio import Redis

    return Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


@dataclasses.dataclass
class CeleryBroker(HealthCheck):
    """The Celery broker (``CELERY_BROKER_URL``) accepts a connection (kombu, one attempt, 2 s)."""

    timeout: dt.timedelta = dataclasses.field(default=dt.timedelta(seconds=3), repr=False)

    def run(self):
        from wedsync_ops.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # noqa: BLE001 - kombu raises transport-specific errors
            raise ServiceUnavailable(f"broker: {type(exc).__name__}") from None


def stale_jobs(runs: Iterable[JobRun], *, now: dt.datetime) -> list[str]:
    """Descriptions of the jobs whose newest run is older than twice their period (or that never ran)."""
    stale = []
    for run in runs:
        if run.stale is False:
            continue
        if run.last_run_at is None:
            stale.append(f"beat job {run.name} never ran")
            continue
        age = (now - run.last_run_at).total_seconds()
        if age > 2 * run.period_s:
            stale.append(f"beat job {run.name} last ran {age:.0f} s ago (period {run.period_s:g} s)")
    return stale


@dataclasses.dataclass
class BeatLiveness(HealthCheck):
    """Every beat job ran within twice its period (runs from ``settings.HEALTH_BEAT_RUNS_SOURCE``).

    The source is a callable ``source(*, now) -> Iterable[JobRun]``; it may
    itself raise ``ServiceUnavailable`` (e.g. no beat holds the lock).
    """

    timeout: dt.timedelta = dataclasses.field(default=dt.timedelta(seconds=3), repr=False)

    def run(self):
        from django.db import connections

        now = timezone.now()
        source = import_string(settings.HEALTH_BEAT_RUNS_SOURCE)
        try:
            runs = list(source(now=now))
        finally:
            connections.close_all()  # this probe thread's connection, if the source used one
        if not runs:
            raise ServiceUnavailable("no beat job runs recorded")
        stale = stale_jobs(runs, now=now)
        if stale:
            raise ServiceUnavailable("; ".join(stale[:5]) + (f" (+{len(stale) - 5} more)" if len(stale) > 5 else ""))


def schedule_period_s(schedule, *, after: dt.datetime) -> float:
    """Seconds between two consecutive runs of a Celery ``schedule`` (interval or crontab) after ``after``.

    An interval's is its ``run_every``; a crontab's is the gap between its next
    two due times after ``after`` (``remaining_delta``: next = last + delta).
    """
    if not hasattr(schedule, "remaining_delta"):
        return schedule.run_every.total_seconds()
    first = _next_due(schedule, after)
    return (_next_due(schedule, first) - first).total_seconds()


def _next_due(schedule, last_run_at: dt.datetime) -> dt.datetime:
    last, delta, _now = schedule.remaining_delta(last_run_at)
    return last + delta


def heartbeat_job_runs(*, now: dt.datetime) -> list[JobRun]:
    """The newest recorded run of each beat job (the heartbeats app's ``job_runs``, written as tasks execute).

    The default source. A job that has not run yet is stale only once runs have been recorded for longer
    than twice its period (``heartbeats.selectors.beat_jobs_status``), so a fresh deployment is not unready
    for a day because of its daily jobs.
    """
    from heartbeats.selectors import beat_jobs_status

    return [JobRun(j.job.name, j.last_started_at, j.period_s, stale=j.stale) for j in beat_jobs_status(now).jobs]


def redbeat_job_runs(*, now: dt.datetime) -> list[JobRun]:
    """The newest run of each ``CELERY_BEAT_SCHEDULE`` entry as beat recorded it in Redis (celery-redbeat).

    Raises ServiceUnavailable when no beat process holds the scheduler lock
    (``CELERY_REDBEAT_KEY_PREFIX`` + ``:lock``): none is running.
    """
    from redbeat.schedulers import ensure_conf, get_redis

    from wedsync_ops.celery import app

    conf = ensure_conf(app)
    return redbeat_state_runs(
        get_redis(app),
        key_prefix=conf.key_prefix,
        lock_key=conf.lock_key,
        schedule=settings.CELERY_BEAT_SCHEDULE,
        now=now,
    )


def redbeat_state_runs(client, *, key_prefix: str, lock_key: str, schedule: dict, now: dt.datetime) -> list[JobRun]:
    """``JobRun`` of each entry of ``schedule`` from celery-redbeat's keys (``<key_prefix><name>`` → ``meta``)."""
    from redbeat.schedulers import RedBeatSchedulerEntry

    try:
        holder = client.get(lock_key)
        metas = [client.hget(key_prefix + name, "meta") for name in schedule]
    except Exception as exc:  # noqa: BLE001 - redis errors of any kind: beat state unknown
        raise ServiceUnavailable(f"beat state in Redis: {type(exc).__name__}") from None
    if not holder:
        raise ServiceUnavailable("no beat process holds the scheduler lock")
    runs = []
    for (name, entry), meta in zip(schedule.items(), metas, strict=True):
        last = RedBeatSchedulerEntry.decode_meta(meta).get("last_run_at")
        period = entry["schedule"]
        period = period if hasattr(period, "remaining_estimate") else _interval(period)
        runs.append(JobRun(name, last, schedule_period_s(period, after=now)))
    return runs


def _interval(seconds):
    from celery.schedules import schedule

    return schedule(dt.timedelta(seconds=seconds) if not isinstance(seconds, dt.timedelta) else seconds)


READY_CHECKS: dict[str, type[HealthCheck] | tuple] = {
    "database": AppRoleDatabase,
    "redis": (RedisCheck, {"client_factory": _redis_client}),
    "broker": CeleryBroker,
    "beat": BeatLiveness,
}


def ready_report() -> tuple[int, dict]:
    """Run ``READY_CHECKS`` concurrently; returns ``(http_status, body)`` as described in the module."""
    required = set(settings.HEALTH_READY_REQUIRED)
    checks = {}
    for name, spec in READY_CHECKS.items():
        cls, options = spec if isinstance(spec, tuple) else (spec, {})
        checks[name] = cls(**options)

    async def gather():
        return await asyncio.gather(*(check.get_result() for check in checks.values()))

    results = asyncio.run(gather())
    body_checks, failed_required, failed = {}, False, False
    for name, result in zip(checks, results, strict=True):
        entry = {
            "status": "ok" if result.error is None else "fail",
            "required": name in required,
            "time_ms": round(result.time_taken * 1000, 1),
        }
        if result.error is not None:
            entry["error"] = str(result.error)
            failed = True
            failed_required |= name in required
        body_checks[name] = entry
    overall = "unavailable" if failed_required else "degraded" if failed else "ok"
    return (503 if failed_required else 200), {"status": overall, "checks": body_checks}


def live(request) -> HttpResponse:
    """``/health/live``: the process answers (no dependency consulted)."""
    return JsonResponse({"status": "ok"})


def ready(request) -> HttpResponse:
    """``/health/ready``: the dependencies, see the module docstring."""
    status, body = ready_report()
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthMiddleware:
    """Answer ``GET``/``HEAD`` ``/health/live`` and ``/health/ready`` (trailing slash optional) before anything else."""

    ROUTES = {"/health/live": live, "/health/ready": ready}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.ROUTES.get(request.path_info.rstrip("/"))
        if view is not None and request.method in ("GET", "HEAD"):
            started = time.perf_counter()
            response = view(request)
            response["Server-Timing"] = f"health;dur={(time.perf_counter() - started) * 1000:.1f}"
            return response
        return self.get_response(request)
