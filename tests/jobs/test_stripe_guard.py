"""The shared Stripe guard: one paced rate limit and one circuit breaker for every worker, in
Redis. Stripe limits requests continuously (https://docs.stripe.com/rate-limits)."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator

import dramatiq
import pytest
import redis
import requests
from sqlalchemy.exc import IntegrityError, OperationalError

from config import load_settings
from jobs.broker import redis_client
from jobs.retrying import retry_transient_failures
from jobs.stripe_guard import (
    BACKGROUND_SCHEDULE_KEY,
    BACKGROUND_SHARE,
    DEFERRALS_KEY,
    FAILURES_KEY,
    OPEN_KEY,
    SCHEDULE_KEY,
    SENT_KEY,
    WAITS_KEY,
    RedisStripeGuard,
    limiter_counts,
)
from payments.errors import CircuitOpen, StripeUnavailable
from payments.gateway import make_stripe_client
from web.stripe_reads import ReadBudget


@pytest.fixture
def shared_redis(broker) -> Iterator[redis.Redis]:  # the broker fixture fails in CI without Redis
    client = redis_client(load_settings())
    keys = (
        FAILURES_KEY,
        OPEN_KEY,
        SCHEDULE_KEY,
        BACKGROUND_SCHEDULE_KEY,
        SENT_KEY,
        WAITS_KEY,
        DEFERRALS_KEY,
    )
    client.delete(*keys)
    yield client
    client.delete(*keys)


def two_workers(client: redis.Redis, **options: float) -> tuple[RedisStripeGuard, ...]:
    return tuple(RedisStripeGuard(client, rate_per_s=4, **options) for _ in range(2))  # type: ignore[arg-type]


def test_guards_in_many_threads_share_one_paced_schedule(
    shared_redis: redis.Redis, stripe_sim_process: str
) -> None:
    rate, calls = 20, 50
    settings = load_settings({"STRIPE_API_KEY": "sk_test_midway"})
    guards = [RedisStripeGuard(shared_redis, rate_per_s=rate) for _ in range(5)]

    def caller(guard: RedisStripeGuard) -> None:
        client = make_stripe_client(settings, stripe_sim_process, guard)
        for _ in range(calls // len(guards)):
            client.raw_request("get", "/v1/balance")

    threads = [threading.Thread(target=caller, args=(guard,)) for guard in guards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # However the threads interleave, Stripe never sees more than `rate` in one second.
    received = requests.get(f"{stripe_sim_process}/_sim/requests", timeout=10).json()["requests"]
    times = sorted(at for at, _, path in received if path == "/v1/balance")
    assert len(times) == calls
    assert max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)) <= rate
    counts = limiter_counts(shared_redis)
    assert counts.deferrals == 0 and counts.waits >= calls - 2


def test_a_wait_beyond_the_bound_becomes_a_delayed_retry_that_books_nothing(
    shared_redis: redis.Redis,
) -> None:
    guard = RedisStripeGuard(shared_redis, rate_per_s=2, max_wait_s=1.2)
    outcomes: list[float | None] = []  # None: went through; else the retry delay

    def caller() -> None:
        try:
            guard.before_send()()
            outcomes.append(None)
        except StripeUnavailable as error:
            outcomes.append(error.retry_after_s)

    # Five calls at once (within half a second of each other, even on a busy machine): slots
    # at about 0, 0.5 and 1 s are within the bound; 1.5 and 2 s are not, and those two are
    # told to come back when the schedule has room.
    threads = [threading.Thread(target=caller) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    delays = sorted(d for d in outcomes if d is not None)
    assert outcomes.count(None) == 3 and len(delays) == 2
    assert all(0 < delay < 2.1 for delay in delays)
    assert limiter_counts(shared_redis).deferrals == 2
    # Deferred calls booked nothing: the next slot follows the three granted ones.
    next_slot_us = int(shared_redis.get(SCHEDULE_KEY) or 0)
    now_s, now_us = shared_redis.time()
    assert next_slot_us - (now_s * 1_000_000 + now_us) < 700_000


def test_the_background_lane_cannot_take_the_money_lanes_share(shared_redis: redis.Redis) -> None:
    money = RedisStripeGuard(shared_redis, rate_per_s=10, max_wait_s=5)
    background = money.lane("background")
    background.before_send()()
    started = time.monotonic()
    money.before_send()()  # the next shared slot, one interval on
    money_waited = time.monotonic() - started
    started = time.monotonic()
    background.before_send()()  # its own schedule: interval / BACKGROUND_SHARE after the first
    background_waited = time.monotonic() - started
    assert money_waited < 0.1 / BACKGROUND_SHARE / 2
    assert background_waited >= 0.1 / BACKGROUND_SHARE - 0.1 - 0.02


def test_failures_open_the_breaker_for_every_worker_and_a_success_closes_it(
    shared_redis: redis.Redis,
) -> None:
    first, second = two_workers(shared_redis, breaker_failures=3, breaker_cooldown_s=0.5)
    for _ in range(3):
        first.record_failure()
    with pytest.raises(CircuitOpen) as held:
        second.before_send()()
    assert 0 < held.value.retry_after_s <= 0.5
    time.sleep(0.6)  # the cooldown passes: calls go through again (half-open)
    second.before_send()()
    second.record_success()
    assert shared_redis.get(FAILURES_KEY) is None


def test_a_success_resets_the_failure_count(shared_redis: redis.Redis) -> None:
    first, _ = two_workers(shared_redis, breaker_failures=3)
    first.record_failure()
    first.record_failure()
    first.record_success()
    first.record_failure()
    first.before_send()()  # still closed: failures do not accumulate across a success


def test_transient_errors_become_delayed_retries_honouring_retry_after() -> None:
    with pytest.raises(dramatiq.Retry) as retry, retry_transient_failures():
        raise StripeUnavailable("429", retry_after_s=1.5)
    assert retry.value.delay == 1500
    with pytest.raises(ValueError), retry_transient_failures():
        raise ValueError("a bug is not retried as if Stripe were down")


def test_a_lost_database_connection_is_retried_but_a_constraint_error_is_not() -> None:
    with pytest.raises(dramatiq.Retry) as retry, retry_transient_failures():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    assert retry.value.delay == 1000
    with pytest.raises(IntegrityError), retry_transient_failures():
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))


def test_a_late_caller_waits_while_the_last_second_already_holds_the_limit(
    shared_redis: redis.Redis,
) -> None:
    # As after a stall: five calls went out just now (the limit), and a caller wakes for its
    # slot. The pacing schedule is free, but the one-second log of sends is full.
    seconds, micros = shared_redis.time()
    now_us = seconds * 1_000_000 + micros
    shared_redis.zadd(SENT_KEY, {f"earlier-{i}": now_us - 1000 * i for i in range(5)})
    guard = RedisStripeGuard(shared_redis, rate_per_s=5)
    started = time.monotonic()
    guard.before_send()()
    assert time.monotonic() - started >= 0.9  # until the oldest of the five is a second old
    assert shared_redis.zcard(SENT_KEY) <= 5


def test_a_send_let_through_holds_its_place_until_it_is_on_the_wire(
    shared_redis: redis.Redis,
) -> None:
    guard = RedisStripeGuard(shared_redis, rate_per_s=1)
    sent = guard.before_send()
    # Longer than the window: a send stamped when it was let through would have aged out.
    time.sleep(1.1)
    with pytest.raises(StripeUnavailable, match="limit is reached"):
        guard.send_now()
    sent()  # on the wire now: stamped now, so it still fills this second
    with pytest.raises(StripeUnavailable, match="limit is reached"):
        guard.send_now()
    assert shared_redis.zcard(SENT_KEY) == 1


def test_web_reads_take_places_in_the_workers_log_of_sends_and_never_wait(
    shared_redis: redis.Redis,
) -> None:
    workers = RedisStripeGuard(shared_redis, rate_per_s=3)
    reads = ReadBudget(shared_redis, rate_per_s=100, stripe_limit_per_s=3)
    workers.before_send()()
    workers.before_send()()
    read_sent = reads.before_send()
    assert read_sent is not None
    read_sent()
    with pytest.raises(StripeUnavailable, match="limit is reached"):
        reads.before_send()  # the second is full: no read, and no wait for one
    assert shared_redis.zcard(SENT_KEY) == 3
