"""Stripe's rate limit holds across worker processes, as Stripe itself would count it.

Stripe limits requests continuously (https://docs.stripe.com/rate-limits): a burst at the top
of a second is a burst, whatever the calendar says. Two separate `dramatiq jobs.worker` process
groups charge a backlog through the shared paced limiter; stripe_sim's own log of when each
request arrived must never hold more than the limit in any sliding second, and no call may
have been turned back by the limiter. Calls that stall between being let through and going out
must not bunch into one second either.
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time

import redis
import requests
from loopback_processes import PrivateRedis, wait_until
from sqlalchemy import func, select

from config import load_settings
from jobs.stripe_guard import RedisStripeGuard, limiter_counts
from models import Payment
from payments.gateway import make_stripe_client
from payments.gateway.guard import Sent

LIMIT = 20
PAYMENTS = 100


def most_in_a_sliding_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def test_two_worker_groups_never_exceed_the_limit_in_any_sliding_second(cluster) -> None:
    cluster.extra_env.update(STRIPE_RATE_LIMIT_PER_S=str(LIMIT), STRIPE_READ_TIMEOUT_S="10")
    ids = cluster.card_payments(PAYMENTS, "pace")
    # Slow answers keep many calls in flight at once, so the limiter, not latency, sets the pace.
    cluster.sim("faults", {"slow_ms": 150})
    cluster.sim("requests/clear")
    cluster.start_worker(0)
    cluster.start_worker(1)
    for payment_id in ids:
        cluster.send("charges", "advance_payment", payment_id)

    def finished() -> bool:
        with cluster.sessions() as session:
            pending = session.scalar(
                select(func.count()).select_from(Payment).where(Payment.status != "succeeded")
            )
        return pending == 0

    wait_until(finished, 120, "every payment charged")
    received = cluster.sim_get("requests")["requests"]
    times = [at for at, method, path in received if path == "/v1/payment_intents"]
    assert len(times) == PAYMENTS  # one call per payment: nothing retried, nothing lost
    busiest = most_in_a_sliding_second(times)
    print(f"busiest sliding second: {busiest} calls (limit {LIMIT})")
    assert busiest <= LIMIT, f"{busiest} calls in one sliding second, limit {LIMIT}"
    # The pace is the limit's, not a trickle: 100 calls at 20/s take about 5 s, not 10.
    assert max(times) - min(times) < 2 * PAYMENTS / LIMIT
    counts = limiter_counts(redis.Redis.from_url(cluster.redis.url))
    assert counts.deferrals == 0
    assert counts.waits > PAYMENTS / 2  # the backlog did queue on the limiter


class StallingAfterAdmission:
    """The shared guard, as seen by threads that stall after being let through (a busy machine
    runs them late): the first `LIMIT` calls go out 0.4 s after their slot, the next `LIMIT` at
    once, and so on. Stamped when let through, the stalled ones would land in the next second
    on top of the prompt ones."""

    def __init__(self, guard: RedisStripeGuard) -> None:
        self._guard = guard
        self._calls = itertools.count()
        self._lock = threading.Lock()

    def before_send(self) -> Sent:
        sent = self._guard.before_send()
        with self._lock:
            call = next(self._calls)
        if (call // LIMIT) % 2 == 0:
            time.sleep(0.4)
        return sent

    def record_success(self) -> None:
        self._guard.record_success()

    def record_failure(self) -> None:
        self._guard.record_failure()


def test_calls_stalled_after_their_slot_still_fit_the_limit_as_stripe_counts(
    stripe_sim_process: str, own_redis: PrivateRedis
) -> None:
    guard = RedisStripeGuard(redis.Redis.from_url(own_redis.url), rate_per_s=LIMIT)
    settings = load_settings({"STRIPE_API_KEY": "sk_test_midway"})
    client = make_stripe_client(settings, stripe_sim_process, StallingAfterAdmission(guard))
    calls = 4 * LIMIT
    left = itertools.count()

    def caller() -> None:
        while next(left) < calls:
            client.raw_request("get", "/v1/balance")

    threads = [threading.Thread(target=caller) for _ in range(LIMIT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    received = requests.get(f"{stripe_sim_process}/_sim/requests", timeout=10).json()["requests"]
    times = [at for at, method, path in received if path == "/v1/balance"]
    assert len(times) == calls
    busiest = most_in_a_sliding_second(times)
    print(f"busiest sliding second: {busiest} calls (limit {LIMIT})")
    assert busiest <= LIMIT, f"{busiest} calls in one sliding second, limit {LIMIT}"
