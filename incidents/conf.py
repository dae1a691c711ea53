"""Configuration of the incidents app, read from the environment (``environ.Env``).

Every value has a working default; units are in the names.
"""

import environ

env = environ.Env()

#: Minutes an unacknowledged incident or critical alert waits before the first
#: escalation when no escalation policy applies. Default 5 (docs/design/tenancy-and-rls.md).
ESCALATION_DEFAULT_WAIT_MINUTES: int = env.int("ESCALATION_DEFAULT_WAIT_MINUTES", default=5)

#: The same while the organization's wedding-day protocol is on. Default 2.
ESCALATION_WEDDING_DAY_WAIT_MINUTES: int = env.int("ESCALATION_WEDDING_DAY_WAIT_MINUTES", default=2)

#: Seconds between two runs of the escalation beat job. Default 60.
ESCALATION_BEAT_SECONDS: float = env.float("ESCALATION_BEAT_SECONDS", default=60.0)

#: Most incidents (and, separately, alerts) one beat run escalates; the rest wait for the next run. Default 500.
ESCALATION_BATCH_LIMIT: int = env.int("ESCALATION_BATCH_LIMIT", default=500)

#: Minutes after an incident resolved during which an alert of the same group (or a rule's alert
#: re-firing) reopens it instead of opening a new incident. Default 30.
INCIDENT_REOPEN_WINDOW_MINUTES: int = env.int("INCIDENT_REOPEN_WINDOW_MINUTES", default=30)

#: Automated runbook actions (issue 18 §3, ``incidents.recovery``): the URL prefixes an HTTP action may
#: call (scheme, host, port and path prefix, e.g. ``https://ops-api.internal.example/restart/``), through
#: the SSRF-safe outbound client as a trusted (staff-configured) target. Empty: no HTTP action may run.
AUTO_RECOVERY_HTTP_ALLOWLIST: list[str] = env.list("AUTO_RECOVERY_HTTP_ALLOWLIST", default=[])

#: The Celery task names an automated action may send (e.g. ``apm.tasks.run_health_checks``). Empty: none.
AUTO_RECOVERY_TASKS: list[str] = env.list("AUTO_RECOVERY_TASKS", default=[])

#: Minutes after an alert started firing during which a matching automated action is still started.
AUTO_RECOVERY_START_WITHIN_MINUTES: int = env.int("AUTO_RECOVERY_START_WITHIN_MINUTES", default=10)
