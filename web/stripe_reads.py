"""Stripe reads made for API clients (a PaymentIntent's client secret), on their own budget.

Polling clients must not spend the Stripe request rate the workers need to move money: these
reads take tokens from a separate Redis bucket (STRIPE_READ_BUDGET_PER_S, shared by every web
process), never wait for one, and skip Stripe while the workers' circuit breaker is open. Each
read also takes a place in the workers' shared log of sends (jobs/stripe_guard.py), or none if
the last second already holds STRIPE_RATE_LIMIT_PER_S: Stripe counts reads too, so the budget is
a share of that limit, not an addition to it. A secret read is kept in this process's memory for
a short while (never stored at rest), so clients polling one payment cost one call per TTL.
Without budget the answer simply has no secret yet; the client asks again.
"""

from __future__ import annotations

import threading
import time

import redis
from dramatiq.rate_limits import BucketRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from jobs.stripe_guard import OPEN_KEY, RedisStripeGuard
from payments.errors import CircuitOpen, GatewayError, StripeUnavailable
from payments.gateway import StripeGateway
from payments.gateway.guard import Sent

SECRET_TTL_S = 60.0
MAX_CACHED = 10_000


class ReadBudget:
    """A CallGuard that refuses at once instead of waiting: reads are never worth a queue."""

    def __init__(
        self, client: redis.Redis, *, rate_per_s: int, stripe_limit_per_s: int | None = None
    ) -> None:
        self._redis = client
        # The workers' shared limit, whose log of sends the reads enter too (None: reads only
        # spend their own bucket, as in a test of the bucket alone).
        self._shared = (
            RedisStripeGuard(client, rate_per_s=stripe_limit_per_s)
            if stripe_limit_per_s is not None
            else None
        )
        self._limiter = BucketRateLimiter(
            RedisBackend(client=client), "midway:stripe:reads", limit=rate_per_s, bucket=1000
        )

    def before_call(self) -> None:
        if int(self._redis.pttl(OPEN_KEY)) > 0:
            raise CircuitOpen("Stripe is failing; reads held back")
        with self._limiter.acquire(raise_on_failure=False) as acquired:
            if not acquired:
                raise StripeUnavailable("the Stripe read budget is spent for now")

    def before_send(self) -> Sent | None:
        """As before_call, then a place in the shared log of sends now or never: a read counts
        against Stripe's limit like every other call, and never waits for one."""
        self.before_call()
        return self._shared.send_now() if self._shared is not None else None

    def record_success(self) -> None:
        return None

    def record_failure(self) -> None:
        return None


class ClientSecrets:
    def __init__(self, gateway: StripeGateway) -> None:
        self._gateway = gateway
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str | None, float]] = {}

    def get(self, payment_intent: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(payment_intent)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            intent = self._gateway.retrieve_payment_intent(payment_intent)
        except GatewayError:
            return None
        secret = intent.client_secret
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[payment_intent] = (secret, now + SECRET_TTL_S)
        return secret
