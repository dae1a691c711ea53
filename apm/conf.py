"""Configuration of the apm app, read from the environment (django-environ).

- ``FIELD_ENCRYPTION_KEYS``: comma-separated Fernet keys (32 url-safe
  base64-encoded bytes each, ``Fernet.generate_key()``), NEWEST FIRST.
  Credentials are encrypted with the first and decrypted with any, so a key
  is rotated by prepending a new one, running ``manage.py
  reencrypt_credentials``, then removing the old one. Default: one key
  derived from ``SECRET_KEY`` (SHA-256 of ``"apm-credentials:" +
  SECRET_KEY``), good for local use only.
- ``APM_POLL_ALERT_AFTER_FAILURES``: default number of consecutive failed
  polls of a provider configuration after which an alert fires (default 3).
- ``APM_POLL_TIMEOUT_S``: default HTTP timeout of a provider poll, in
  seconds (default 10).
- ``APM_POLL_MIN_INTERVAL_S``: the shortest poll interval a configuration
  may have, in seconds (default 15).
"""

import environ

env = environ.FileAwareEnv()

# FIELD_ENCRYPTION_KEYS is read by wedsync_ops.settings (wedsync_ops/crypto.py holds the keys' use).
APM_POLL_ALERT_AFTER_FAILURES = env.int("APM_POLL_ALERT_AFTER_FAILURES", default=3)
APM_POLL_TIMEOUT_S = env.float("APM_POLL_TIMEOUT_S", default=10.0)
APM_POLL_MIN_INTERVAL_S = env.int("APM_POLL_MIN_INTERVAL_S", default=15)

# The portal watches itself (apm.middleware.RequestMetricsMiddleware):
# - APM_SELF_SAMPLE_RATE: share of requests stored as metric points, 0..1 (default 0.1);
#   every request is counted in the Prometheus histogram regardless.
# - APM_SELF_FLUSH_S: sampled points are written in one COPY at most this often, in seconds (default 10).
# - APM_SELF_FLUSH_POINTS: ... or as soon as this many are buffered (default 500).
# - APM_SELF_ORGANIZATION_SLUG: the organization the portal's own points are filed under
#   (created on first flush; default "wedsync-ops").
# - APM_METRICS_TOKEN: GET /metrics needs "Authorization: Bearer <token>"; unset: closed (403), except with
#   DEBUG=true and the variable set explicitly empty (open, local use). APM_METRICS_TOKEN_FILE works too.
APM_SELF_SAMPLE_RATE = env.float("APM_SELF_SAMPLE_RATE", default=0.1)
APM_SELF_FLUSH_S = env.float("APM_SELF_FLUSH_S", default=10.0)
APM_SELF_FLUSH_POINTS = env.int("APM_SELF_FLUSH_POINTS", default=500)
APM_SELF_ORGANIZATION_SLUG = env.str("APM_SELF_ORGANIZATION_SLUG", default="wedsync-ops")
APM_METRICS_TOKEN = env.str("APM_METRICS_TOKEN", default=None)
