"""Per-tenant rate limits: a token bucket per tenant, refilled at ``rate`` events per second up to
``burst``. A request that would take more than the bucket holds is refused with the seconds until it
would fit (``Retry-After``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

# Tenants come from keys, a bounded set; this bounds the table anyway.
MAX_TENANTS: Final = 10_000


class RateLimits:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # tenant -> (tokens, at)

    def take(self, tenant: str, count: int = 1) -> float:
        """Takes ``count`` tokens of the tenant's bucket: 0.0 when granted, else the seconds to wait."""
        now = self._clock()
        tokens, at = self._buckets.get(tenant, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if count > self.burst:  # never fits: wait for a full bucket, and be told so
            return max(1.0, math.ceil(count / self.rate))
        if tokens < count:
            self._buckets[tenant] = (tokens, now)
            return (count - tokens) / self.rate
        if len(self._buckets) >= MAX_TENANTS and tenant not in self._buckets:
            self._buckets.pop(next(iter(self._buckets)))
        self._buckets[tenant] = (tokens - count, now)
        return 0.0
