"""Per-integration rate limit, counted in alerts: a moving window in Redis (the ``limits`` library).

Each integration may push ``rate_limit_alerts`` alerts per moving window of
``INTEGRATION_RATE_LIMIT_WINDOW_S`` seconds (0: ``alerts.conf.INTEGRATION_RATE_LIMIT_ALERTS``;
defaults 300 alerts per 300 s, Grafana OnCall's per-integration limit). A post
of n alerts costs n. Over the limit a payload is not refused: it is parked and
ingested by a worker in arrival order (``alerts.integrations.backlog``), because
Alertmanager's webhook notifier does not retry a 429 and the alerts would be
lost until its next ``group_interval`` (README "Rate limits").

Counters live in Redis under ``LIMITS:LIMITER/wedsync-integration/<integration id>/…``,
so every web worker and host shares them. The limiter is built once per
process (under a lock: the first concurrent requests after a restart used to
race inside ``limits``' lazy import of redis and fail with
``ConfigurationError … Found version: 0.0.0``). Any limiter error, Redis
unreachable included, lets the payload through inline (fail open: an alert
matters more than the limit) and logs a warning.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import redis  # noqa: F401  (imported whole before any thread can race limits' lazy import of it)
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from alerts import conf

logger = logging.getLogger(__name__)
NAMESPACE = "wedsync-integration"

_build_lock = threading.Lock()
_limiters: dict[str, MovingWindowRateLimiter] = {}


@dataclass(frozen=True)
class RateDecision:
    """``allowed`` (inline); ``limit`` alerts per ``window_s`` seconds; ``failed_open`` when the limiter erred."""

    allowed: bool
    limit: int = 0
    window_s: int = 0
    failed_open: bool = False


def _limiter(url: str) -> MovingWindowRateLimiter:
    """The process's limiter for the Redis at ``url``, built once (double-checked under a lock)."""
    limiter = _limiters.get(url)
    if limiter is None:
        with _build_lock:
            limiter = _limiters.get(url)
            if limiter is None:
                storage = storage_from_string(url, socket_connect_timeout=0.5, socket_timeout=0.5)
                limiter = _limiters[url] = MovingWindowRateLimiter(storage)
    return limiter


def integration_rate_check(*, integration, alerts: int = 1, url: str | None = None) -> RateDecision:
    """Count ``alerts`` alerts of ``integration`` and decide whether they may be ingested inline.

    A payload is allowed when the window has room for all of it; otherwise
    nothing is counted and the caller parks it. ``url`` overrides the Redis URL (tests).
    Never raises: any error of the limiter answers ``allowed`` with ``failed_open``.
    """
    limit = integration.rate_limit_alerts or conf.INTEGRATION_RATE_LIMIT_ALERTS
    window = conf.INTEGRATION_RATE_LIMIT_WINDOW_S
    try:
        item = RateLimitItemPerSecond(limit, window)
        allowed = _limiter(url or conf.INTEGRATION_RATE_LIMIT_REDIS_URL).hit(
            item, NAMESPACE, str(integration.pk), cost=max(1, alerts)
        )
    except Exception as exc:  # noqa: BLE001 - any limiter failure: fail open
        logger.warning("integration rate limit unavailable (%s: %s); payload allowed", type(exc).__name__, exc)
        return RateDecision(True, limit=limit, window_s=window, failed_open=True)
    return RateDecision(allowed, limit=limit, window_s=window)
