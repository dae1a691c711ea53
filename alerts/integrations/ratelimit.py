"""Per-integration rate limit: a moving window in Redis (the ``limits`` library).

Each integration may post ``rate_limit_per_minute`` requests per moving
minute (0: ``alerts.conf.INTEGRATION_RATE_LIMIT_PER_MINUTE``). Counters live
in Redis under ``LIMITS:LIMITER/wedsync-integration/<integration id>/…``, so
every web worker shares them. Redis unreachable: the request is allowed
(fail open: an alert matters more than the limit) and a warning is logged.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from alerts import conf

logger = logging.getLogger(__name__)
NAMESPACE = "wedsync-integration"


@dataclass(frozen=True)
class RateDecision:
    """``allowed``; when refused, ``retry_after_s`` (whole seconds, >= 1) until a request would pass."""

    allowed: bool
    retry_after_s: int = 0
    limit: int = 0


@lru_cache(maxsize=4)
def _limiter(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(url, socket_connect_timeout=0.5, socket_timeout=0.5))


def integration_rate_check(*, integration, url: str | None = None) -> RateDecision:
    """Count one request of ``integration`` and decide; ``url`` overrides the Redis URL (tests)."""
    per_minute = integration.rate_limit_per_minute or conf.INTEGRATION_RATE_LIMIT_PER_MINUTE
    item = RateLimitItemPerMinute(per_minute)
    limiter = _limiter(url or conf.INTEGRATION_RATE_LIMIT_REDIS_URL)
    key = str(integration.pk)
    try:
        if limiter.hit(item, NAMESPACE, key):
            return RateDecision(True, limit=per_minute)
        reset_at, _remaining = limiter.get_window_stats(item, NAMESPACE, key)
    except Exception as exc:  # noqa: BLE001 - any storage failure: fail open
        logger.warning("integration rate limit unavailable (%s); request allowed", exc)
        return RateDecision(True, limit=per_minute)
    return RateDecision(False, retry_after_s=max(1, math.ceil(reset_at - time.time())), limit=per_minute)
