"""Stripe reads made for API clients (a PaymentIntent's client secret), on their own budget.

Polling clients must not spend the Stripe request rate the workers need to move money: these
reads take tokens from a separate Redis bucket (STRIPE_READ_BUDGET_PER_S, shared by every web
process, on top of the workers' STRIPE_RATE_LIMIT_PER_S), never wait for one, and skip Stripe
while the workers' circuit breaker is open. A secret read is kept in this process's memory for
a short while (never stored at rest), so clients polling one payment cost one call per TTL.
Without budget the answer simply has no secret yet; the client asks again.
"""

from __future__ import annotations

import threading
import time

import redis
from dramatiq.rate_limits import BucketRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from jobs.stripe_guard import OPEN_KEY
from payments.errors import CircuitOpen, GatewayError, StripeUnavailable
from payments.gateway import StripeGateway

SECRET_TTL_S = 60.0
MAX_CACHED = 10_000


class ReadBudget:
    """A CallGuard that refuses at once instead of waiting: reads are never worth a queue."""

    def __init__(self, client: redis.Redis, *, rate_per_s: int) -> None:
        self._redis = client
        self._limiter = BucketRateLimiter(
            RedisBackend(client=client), "midway:stripe:reads", limit=rate_per_s, bucket=1000
        )

    def before_call(self) -> None:
        if int(self._redis.pttl(OPEN_KEY)) > 0:
            raise CircuitOpen("Stripe is failing; reads held back")
        with self._limiter.acquire(raise_on_failure=False) as acquired:
            if not acquired:
                raise StripeUnavailable("the Stripe read budget is spent for now")

    def before_send(self) -> None:
        self.before_call()

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
        secret = intent.get("client_secret")
        secret = secret if isinstance(secret, str) else None
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[payment_intent] = (secret, now + SECRET_TTL_S)
        return secret
