"""Configuration of the on-call app, read from the environment (``environ.Env``); units in the names.

- ``ONCALL_ACK_LINK_MAX_AGE_S`` (s, default 86400): how long a page's acknowledge link and its SMS
  code work (a day: a page older than that is history, not a call to act).
- ``ONCALL_TIMELINE_DAYS`` (default 14): days ahead the on-call pages chart.
- ``ONCALL_FEED_PAST_DAYS`` / ``ONCALL_FEED_FUTURE_DAYS`` (default 7 / 56): the span of the iCal feeds.
- ``SLACK_RESPONSE_URL_PREFIX`` (default ``https://hooks.slack.com/``): the only addresses the portal
  answers a Slack button at (the ``response_url`` of a verified request); tests point it at a local server.
"""

import environ

env = environ.Env()

ACK_LINK_MAX_AGE_S: int = env.int("ONCALL_ACK_LINK_MAX_AGE_S", default=86400)
TIMELINE_DAYS: int = env.int("ONCALL_TIMELINE_DAYS", default=14)
FEED_PAST_DAYS: int = env.int("ONCALL_FEED_PAST_DAYS", default=7)
FEED_FUTURE_DAYS: int = env.int("ONCALL_FEED_FUTURE_DAYS", default=56)
SLACK_RESPONSE_URL_PREFIX: str = env.str("SLACK_RESPONSE_URL_PREFIX", default="https://hooks.slack.com/")
