"""Celery queues: which queue each task goes to, its priority there, and its time limits.

Plain Python (no Django): settings import it before Django is set up.

Four queues, each consumed by its own worker process (``make run``, ``deploy/systemd``):

- ``critical``: escalation, on-call paging and notification delivery. Escalation
  and paging are published with priority 0 and single deliveries with 3, sweeps
  with 6, so an escalation tick never waits behind a backlog of deliveries to a
  slow receiver (Redis transport: ``priority_steps`` 0, 3, 6, 9, lower first;
  https://docs.celeryq.dev/en/stable/userguide/routing.html#redis-message-priorities).
- ``metrics``: ingest follow-ups, aggregation, rule evaluation, provider polls.
- ``maintenance``: retention, partitions, snapshots.
- ``default``: everything else (health checks, heartbeat evaluation, suppressions, parked alert payloads,
  new apps' tasks).

Tasks are matched by name with shell-style patterns, first match wins;
``oncall.tasks.*`` is critical before that app exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatchcase

QUEUES = ("critical", "default", "metrics", "maintenance")
DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class TaskPolicy:
    """Where a task runs and for how long: ``queue``, Redis ``priority`` (0 first), ``soft``/``hard`` limits (s).

    ``soft`` raises ``SoftTimeLimitExceeded`` inside the task (a service can stop cleanly);
    ``hard`` kills the worker child (prefork pool) so a stuck task cannot hold a slot forever.
    """

    pattern: str
    queue: str
    priority: int = 0
    soft: int = 300
    hard: int = 360


POLICIES: tuple[TaskPolicy, ...] = (
    # critical: escalation and paging first, then deliveries, then sweeps.
    TaskPolicy("incidents.tasks.*", "critical", priority=0, soft=50, hard=60),
    TaskPolicy("oncall.tasks.*", "critical", priority=0, soft=50, hard=60),
    TaskPolicy("notifications.tasks.deliver_notification", "critical", priority=3, soft=60, hard=90),
    # A chunk of up to 25 deliveries (notifications.services.PUBLISH_CHUNK), each bounded by its HTTP timeouts;
    # what a limit cuts short stays pending for the sweep.
    TaskPolicy("notifications.tasks.deliver_notifications", "critical", priority=3, soft=540, hard=600),
    TaskPolicy("notifications.tasks.*", "critical", priority=6, soft=120, hard=150),
    TaskPolicy("alerts.tasks.repeat_notifications", "critical", priority=6, soft=120, hard=150),
    # metrics: ingest follow-ups, aggregation, evaluation.
    TaskPolicy("apm.tasks.aggregate", "metrics", soft=240, hard=300),
    TaskPolicy("apm.tasks.poll_providers", "metrics", soft=120, hard=150),
    TaskPolicy("apm.tasks.rollup_performance", "metrics", soft=50, hard=60),
    TaskPolicy("apm.tasks.correlate_errors", "metrics", soft=50, hard=60),
    TaskPolicy("alerts.tasks.evaluate_rules", "metrics", soft=50, hard=60),
    TaskPolicy("business.tasks.evaluate_rules", "metrics", soft=50, hard=60),
    TaskPolicy("business.tasks.compute_daily", "metrics", soft=240, hard=300),
    # maintenance: retention, partitions, snapshots.
    TaskPolicy("apm.tasks.ensure_partitions", "maintenance", soft=1800, hard=2100),
    TaskPolicy("apm.tasks.drop_expired_partitions", "maintenance", soft=1800, hard=2100),
    TaskPolicy("apm.tasks.cleanup_monitoring_data", "maintenance", soft=1800, hard=2100),
    TaskPolicy("apm.tasks.capture_system_health_snapshot", "maintenance", soft=50, hard=60),
    TaskPolicy("dbmonitor.tasks.snapshot", "maintenance", soft=50, hard=60),
    TaskPolicy("dbmonitor.tasks.rollup_database_performance", "maintenance", soft=50, hard=60),
    TaskPolicy("dbmonitor.tasks.cleanup", "maintenance", soft=1800, hard=2100),
    TaskPolicy("heartbeats.tasks.cleanup", "maintenance", soft=1800, hard=2100),
    TaskPolicy("business.tasks.cleanup", "maintenance", soft=1800, hard=2100),
    # default: the rest.
    TaskPolicy("apm.tasks.run_health_checks", "default", soft=60, hard=90),
    TaskPolicy("dbmonitor.tasks.evaluate_checks", "default", soft=50, hard=60),
    TaskPolicy("alerts.tasks.drain_integration_backlog", "default", soft=240, hard=300),
    TaskPolicy("heartbeats.tasks.*", "default", soft=50, hard=60),  # check evaluation, job watch, external ping
)
FALLBACK = TaskPolicy("*", DEFAULT_QUEUE)


def policy_for(name: str) -> TaskPolicy:
    """The first policy whose pattern matches task ``name`` (case-sensitive), else ``FALLBACK``."""
    for policy in POLICIES:
        if fnmatchcase(name, policy.pattern):
            return policy
    return FALLBACK


def route_task(name, args, kwargs, options, task=None, **kw) -> dict:
    """Celery router (``task_routes``): ``{"queue", "priority"}`` of task ``name``.

    An explicit ``queue=`` given to ``apply_async`` still wins (Celery merges the
    caller's options over the router's).
    """
    policy = policy_for(name)
    return {"queue": policy.queue, "priority": policy.priority}


class TaskLimits:
    """Celery annotation (``task_annotations``): each task's ``soft_time_limit`` and ``time_limit`` (s)."""

    def annotate(self, task) -> dict:
        policy = policy_for(task.name)
        return {"soft_time_limit": policy.soft, "time_limit": policy.hard}


# Beat entries that run at least this often get ``expires`` = their period.
EXPIRE_PERIODS_UP_TO_S = 3600


def with_expiry(schedule: dict) -> dict:
    """``CELERY_BEAT_SCHEDULE`` with ``options.expires`` (s) = the period on every entry of period <= 1 h.

    A worker that was down finds a backlog of ticks of the same job; a tick
    older than its period is stale (the next one does the same work with a
    fresher ``now``) and is discarded on receipt instead of replayed.
    Crontab entries (daily, hourly) keep no expiry.
    """
    out = {}
    for name, entry in schedule.items():
        entry = dict(entry)
        period = entry["schedule"]
        if isinstance(period, dt.timedelta):
            period = period.total_seconds()
        if isinstance(period, int | float) and period <= EXPIRE_PERIODS_UP_TO_S:
            entry["options"] = {"expires": float(period), **entry.get("options", {})}
        out[name] = entry
    return out
