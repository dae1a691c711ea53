"""Configuration of the alerts app, read from the environment (django-environ), with local defaults.

- ``INTEGRATION_RATE_LIMIT_ALERTS`` (alerts, default 300) per
  ``INTEGRATION_RATE_LIMIT_WINDOW_S`` (s, default 300) per integration: the
  default for integrations whose own ``rate_limit_alerts`` is 0 (Grafana
  OnCall's 300 alerts per 5 minutes). Over it a payload is parked
  (``integration_backlog``, answered 202) and a worker ingests it in order;
  past ``INTEGRATION_BACKLOG_MAX`` parked payloads (default 10000) of one
  integration the endpoint answers 503 with ``Retry-After`` (Alertmanager
  retries a 5xx, not a 429).
- ``INTEGRATION_RATE_LIMIT_REDIS_URL`` (default ``REDIS_URL``): where the
  limiter's counters live (a moving window, ``limits`` library). If Redis
  cannot be reached the limiter lets requests through (an alert matters more
  than the limit) and logs a warning.
- ``TWILIO_API_BASE_URL`` (default ``https://api.twilio.com``): the SMS
  channel posts to ``<base>/2010-04-01/Accounts/<sid>/Messages.json``; tests
  point it at a local server.
- ``PAGERDUTY_EVENTS_URL`` (default ``https://events.pagerduty.com/v2/enqueue``):
  the PagerDuty channel's Events API v2 endpoint.
- ``ALERT_FLAP_WINDOW_S`` (s, default 1800) and ``ALERT_FLAP_MAX_OPENINGS``
  (default 4): flapping detection, see below.
- ``ALERT_GROUP_WAIT_S`` (s, default 30), ``ALERT_GROUP_INTERVAL_S`` (s, default
  300), ``ALERT_REPEAT_INTERVAL_S`` (s, default 14400): notification grouping of
  rule alerts, see below.
"""

import environ

env = environ.Env()

INTEGRATION_RATE_LIMIT_ALERTS = env.int("INTEGRATION_RATE_LIMIT_ALERTS", default=300)
INTEGRATION_RATE_LIMIT_WINDOW_S = env.int("INTEGRATION_RATE_LIMIT_WINDOW_S", default=300)
INTEGRATION_BACKLOG_MAX = env.int("INTEGRATION_BACKLOG_MAX", default=10_000)
# Empty (as .env.example lists it): REDIS_URL.
INTEGRATION_RATE_LIMIT_REDIS_URL = env.str("INTEGRATION_RATE_LIMIT_REDIS_URL", default="") or env.str(
    "REDIS_URL", default="redis://127.0.0.1:6379/0"
)
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com")
PAGERDUTY_EVENTS_URL = env.str("PAGERDUTY_EVENTS_URL", default="https://events.pagerduty.com/v2/enqueue")

# Flapping (alerts.services.alert_fire): an identity that opened FLAP_MAX_OPENINGS
# or more alerts within the last FLAP_WINDOW_S seconds (this one included) is
# flapping: the new alert is marked and its notifications are held until it
# stays open for FLAP_WINDOW_S (alerts.silences.suppressions_apply releases it).
FLAP_WINDOW_S = env.int("ALERT_FLAP_WINDOW_S", default=1800)
FLAP_MAX_OPENINGS = env.int("ALERT_FLAP_MAX_OPENINGS", default=4)

# Grouping of the notifications of our own rules' alerts (Alertmanager's semantics,
# alerts.notify.group_send_at): the first alert of a group (organization, group_key)
# is notified GROUP_WAIT_S after it fires, so alerts of one group firing together go out
# together; an alert joining a group already notified waits until GROUP_INTERVAL_S after
# the group's last notification; a firing, unacknowledged alert is notified again every
# REPEAT_INTERVAL_S (alerts.tasks.repeat_notifications).
GROUP_WAIT_S = env.int("ALERT_GROUP_WAIT_S", default=30)
GROUP_INTERVAL_S = env.int("ALERT_GROUP_INTERVAL_S", default=300)
REPEAT_INTERVAL_S = env.int("ALERT_REPEAT_INTERVAL_S", default=4 * 3600)
