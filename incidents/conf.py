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
