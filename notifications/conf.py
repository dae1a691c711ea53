"""Configuration of the notifications app, read from the environment (django-environ), with local defaults.

Delivery (also in ``settings``, where tests override them): ``NOTIFY_HTTP_TIMEOUT_S``
(s, default 10, connect and read), ``NOTIFY_MAX_ATTEMPTS`` (default 6), ``NOTIFY_BACKOFF_BASE_S``
(s, default 30: attempt n waits base × 2^(n−1), so six attempts span about 15 minutes).

- ``NOTIFY_DISABLE_AFTER_4XX`` (default 5) and ``NOTIFY_DISABLE_4XX_SPAN_S`` (s, default 900): a
  channel whose receiver answered 4xx (other than 408/429) to at least that many attempts since its
  last success, over at least that long, is disabled. A single 4xx is never enough: receivers answer
  404 for a few seconds while they deploy. Errors that are permanent by the receiver's own documented
  meaning (HTTP 410; Slack ``invalid_token``, ``channel_not_found``, ``channel_is_archived``,
  ``no_service``; PagerDuty's invalid routing key; Twilio authentication) disable it at once.
- ``NOTIFY_HELD_MAX_AGE_S`` (s, default 86400): re-enabling a channel sends what it held while
  disabled if it is at most this old; older held deliveries are cancelled (a day-old page helps nobody).
- ``NOTIFY_TEST_RATE`` (default ``3/10minute``, the ``limits`` library's notation): test
  notifications per channel from the vendor channels page; counted in ``REDIS_URL``.
- ``TWILIO_API_BASE_URL`` (default ``https://api.twilio.com``), ``PAGERDUTY_EVENTS_URL``
  (default ``https://events.pagerduty.com/v2/enqueue``) and ``SLACK_API_BASE_URL`` (default
  ``https://slack.com/api``, for paging by Slack direct message): outbound API endpoints; tests
  point them at local servers. The paging accounts themselves (``TWILIO_ACCOUNT_SID``,
  ``TWILIO_AUTH_TOKEN``, ``TWILIO_FROM_NUMBER``, ``SLACK_BOT_TOKEN``) are secrets, read in
  ``settings`` (``*_FILE`` works).
"""

import environ

env = environ.Env()

DISABLE_AFTER_4XX = env.int("NOTIFY_DISABLE_AFTER_4XX", default=5)
DISABLE_4XX_SPAN_S = env.int("NOTIFY_DISABLE_4XX_SPAN_S", default=900)
HELD_MAX_AGE_S = env.int("NOTIFY_HELD_MAX_AGE_S", default=86400)
TEST_RATE = env.str("NOTIFY_TEST_RATE", default="3/10minute")
RATE_REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com")
PAGERDUTY_EVENTS_URL = env.str("PAGERDUTY_EVENTS_URL", default="https://events.pagerduty.com/v2/enqueue")
SLACK_API_BASE_URL = env.str("SLACK_API_BASE_URL", default="https://slack.com/api")
