"""Configuration of the heartbeats app, read from the environment (django-environ), with local defaults.

- ``HEARTBEAT_PING_BASE_URL`` (default ``PORTAL_BASE_URL`` + ``/ping``): the
  base of the ping URLs shown to people (``<base>/<uuid>``).
- ``HEARTBEAT_PING_BODY_LIMIT`` (bytes, default 10000): how much of a ping's
  body is kept (healthchecks.io's ``PING_BODY_LIMIT``; sent back in the
  ``Ping-Body-Limit`` response header).
- ``HEARTBEAT_PING_RATE_PER_MINUTE`` (default 60): pings per check per moving
  minute; more answer 429 with ``Retry-After`` and store nothing. The
  counters live in ``HEARTBEAT_PING_RATE_REDIS_URL`` (default ``REDIS_URL``);
  Redis unreachable lets pings through (a ping matters more than the limit).
- ``HEARTBEAT_PINGS_KEPT`` (default 100): pings kept per check (older ones are
  pruned by the ``heartbeats-cleanup`` beat job), like healthchecks.io's ping log.
- ``HEARTBEAT_FLIPS_DAYS`` (default 90) and ``HEARTBEAT_JOB_RUNS_DAYS``
  (default 7): retention of state changes and job runs.
- ``HEARTBEAT_EVALUATE_SECONDS`` (s, default 30): the beat period of the
  set-based check evaluation.
- ``HEARTBEAT_WATCHDOG_PERIOD_S`` / ``HEARTBEAT_WATCHDOG_GRACE_S`` (s, default
  300 / 300): a new Watchdog check expects the Alertmanager ``Watchdog`` alert
  every period and goes down (critical) after period + grace without one.
  Route the Watchdog with a ``repeat_interval`` shorter than the period.
- ``HEARTBEAT_JOB_WATCH_S`` (s, default 60): how often every Celery worker
  checks that the beat jobs run (``heartbeats.worker.JobWatchStep``); 0 turns it off.
- ``HEARTBEAT_PING_URL`` (default empty: off): an external healthchecks.io-
  compatible URL the portal pings every minute (``/fail`` with the late jobs
  when beat jobs are late); ``HEARTBEAT_PING_TIMEOUT_S`` (s, default 10).
"""

import environ

env = environ.Env()

_PORTAL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
PING_BASE_URL = (env.str("HEARTBEAT_PING_BASE_URL", default="") or f"{_PORTAL}/ping").rstrip("/")
PING_BODY_LIMIT = env.int("HEARTBEAT_PING_BODY_LIMIT", default=10_000)
PING_RATE_PER_MINUTE = env.int("HEARTBEAT_PING_RATE_PER_MINUTE", default=60)
PING_RATE_REDIS_URL = env.str(
    "HEARTBEAT_PING_RATE_REDIS_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
)
PINGS_KEPT = env.int("HEARTBEAT_PINGS_KEPT", default=100)
FLIPS_DAYS = env.int("HEARTBEAT_FLIPS_DAYS", default=90)
JOB_RUNS_DAYS = env.int("HEARTBEAT_JOB_RUNS_DAYS", default=7)
WATCHDOG_PERIOD_S = env.int("HEARTBEAT_WATCHDOG_PERIOD_S", default=300)
WATCHDOG_GRACE_S = env.int("HEARTBEAT_WATCHDOG_GRACE_S", default=300)
JOB_WATCH_S = env.float("HEARTBEAT_JOB_WATCH_S", default=60.0)
PING_URL = env.str("HEARTBEAT_PING_URL", default="").strip()
PING_TIMEOUT_S = env.float("HEARTBEAT_PING_TIMEOUT_S", default=10.0)

# Limits of a check's schedule (healthchecks.io's API: 60 s to a year).
MIN_PERIOD_S = 60
MAX_PERIOD_S = 365 * 86400
MIN_GRACE_S = 60
MAX_GRACE_S = 365 * 86400
