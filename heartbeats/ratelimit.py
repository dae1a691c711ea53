"""Per-check ping rate limit: a sliding window counter in Redis (the ``limits`` library).

Each check may be pinged ``HEARTBEAT_PING_RATE_PER_MINUTE`` times per sliding
minute; more answer 429 with ``Retry-After`` (the ping is not stored). The
limiter is built once per process under a lock (building it concurrently
races inside the storage's set-up). Any limiter error lets the ping through
and logs a warning: a missed heartbeat would page someone, an unlimited one
costs a row.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from heartbeats import conf

logger = logging.getLogger(__name__)
NAMESPACE = "wedsync-heartbeat-ping"
_lock = threading.Lock()
_limiters: dict[str, SlidingWindowCounterRateLimiter] = {}


def _limiter(url: str) -> SlidingWindowCounterRateLimiter:
    with _lock:
        if url not in _limiters:
            storage = storage_from_string(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            _limiters[url] = SlidingWindowCounterRateLimiter(storage)
        return _limiters[url]


def ping_rate_check(*, ping_uuid, per_minute: int | None = None, url: str | None = None) -> int:
    """Count one ping of the check ``ping_uuid``; returns 0 when allowed, else the seconds to wait (>= 1).

    ``per_minute`` defaults to ``HEARTBEAT_PING_RATE_PER_MINUTE`` (0 or less: no limit);
    ``url`` to ``HEARTBEAT_PING_RATE_REDIS_URL``.
    """
    limit = conf.PING_RATE_PER_MINUTE if per_minute is None else per_minute
    if limit <= 0:
        return 0
    item = RateLimitItemPerMinute(limit)
    key = str(ping_uuid)
    try:
        limiter = _limiter(url or conf.PING_RATE_REDIS_URL)
        if limiter.hit(item, NAMESPACE, key):
            return 0
        reset_at, _remaining = limiter.get_window_stats(item, NAMESPACE, key)
    except Exception as exc:  # noqa: BLE001 - any limiter failure: let the ping through
        logger.warning("heartbeat ping rate limit unavailable (%s); ping allowed", type(exc).__name__)
        return 0
    return max(1, math.ceil(reset_at - time.time()))
