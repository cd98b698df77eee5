"""Rate limit and circuit breaker for Stripe calls, shared by every worker through Redis.

- Rate: a Dramatiq BucketRateLimiter keeps all workers together under STRIPE_RATE_LIMIT_PER_S.
  A call that cannot get a slot within a short wait is retried later, not failed.
- Breaker: STRIPE_BREAKER_FAILURES transient failures within BREAKER_WINDOW_S open the circuit
  for STRIPE_BREAKER_COOLDOWN_S; while open, calls are not made and jobs retry after the
  cooldown. After it, calls go through again (half-open) and one success closes it.
"""

from __future__ import annotations

import time

import redis
from dramatiq.rate_limits import BucketRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from payments.errors import CircuitOpen, StripeUnavailable

BREAKER_WINDOW_S = 30
RATE_WAIT_S = 1.0

FAILURES_KEY = "midway:stripe:breaker:failures"
OPEN_KEY = "midway:stripe:breaker:open"


class RedisStripeGuard:
    def __init__(
        self,
        client: redis.Redis,
        *,
        rate_per_s: int,
        breaker_failures: int = 5,
        breaker_cooldown_s: float = 10.0,
        rate_wait_s: float = RATE_WAIT_S,
    ) -> None:
        self._rate_wait_s = rate_wait_s
        self._redis = client
        self._breaker_failures = breaker_failures
        self._breaker_cooldown_ms = int(breaker_cooldown_s * 1000)
        self._limiter = BucketRateLimiter(
            RedisBackend(client=client), "midway:stripe:rate", limit=rate_per_s, bucket=1000
        )

    def circuit_open_for_s(self) -> float:
        """Seconds until the breaker lets calls through again (0 when closed)."""
        ttl_ms = int(self._redis.pttl(OPEN_KEY))
        return ttl_ms / 1000 if ttl_ms > 0 else 0.0

    def before_call(self) -> None:
        wait = self.circuit_open_for_s()
        if wait > 0:
            raise CircuitOpen("Stripe is failing; calls held back", retry_after_s=wait)
        deadline = time.monotonic() + self._rate_wait_s
        while True:
            with self._limiter.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    return
            if time.monotonic() >= deadline:
                raise StripeUnavailable("Stripe request rate at its ceiling", retry_after_s=1.0)
            time.sleep(0.05)

    def record_success(self) -> None:
        self._redis.delete(FAILURES_KEY)

    def record_failure(self) -> None:
        pipe = self._redis.pipeline()
        pipe.incr(FAILURES_KEY)
        pipe.expire(FAILURES_KEY, BREAKER_WINDOW_S)
        failures, _ = pipe.execute()
        if int(failures) >= self._breaker_failures:
            self._redis.set(OPEN_KEY, "1", px=self._breaker_cooldown_ms)
            self._redis.delete(FAILURES_KEY)
