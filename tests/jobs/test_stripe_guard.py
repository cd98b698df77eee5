"""The shared Stripe guard: one rate limit and one circuit breaker for every worker, in Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from sqlalchemy.exc import IntegrityError, OperationalError

from config import load_settings
from jobs.broker import redis_client
from jobs.retrying import retry_transient_failures
from jobs.stripe_guard import FAILURES_KEY, OPEN_KEY, RedisStripeGuard
from payments.errors import CircuitOpen, StripeUnavailable


@pytest.fixture
def shared_redis(broker) -> Iterator[redis.Redis]:  # the broker fixture fails in CI without Redis
    client = redis_client(load_settings())
    client.delete(FAILURES_KEY, OPEN_KEY, "midway:stripe:rate")
    yield client
    client.delete(FAILURES_KEY, OPEN_KEY)


def two_workers(client: redis.Redis, **options: float) -> tuple[RedisStripeGuard, ...]:
    return tuple(RedisStripeGuard(client, rate_per_s=4, **options) for _ in range(2))  # type: ignore[arg-type]


def start_of_a_fresh_second() -> None:
    # The limiter counts per wall-clock second; start a burst at the top of one.
    time.sleep(1 - (time.time() % 1) + 0.01)


def test_the_rate_limit_is_shared_by_all_workers(shared_redis: redis.Redis) -> None:
    first, second = two_workers(shared_redis, rate_wait_s=0)
    start_of_a_fresh_second()
    for guard in (first, second, first, second):
        guard.before_call()
    with pytest.raises(StripeUnavailable, match="rate"):
        first.before_call()
    with pytest.raises(StripeUnavailable, match="rate"):
        second.before_call()


def test_failures_open_the_breaker_for_every_worker_and_a_success_closes_it(
    shared_redis: redis.Redis,
) -> None:
    first, second = two_workers(shared_redis, breaker_failures=3, breaker_cooldown_s=0.5)
    for _ in range(3):
        first.record_failure()
    with pytest.raises(CircuitOpen) as held:
        second.before_call()
    assert 0 < held.value.retry_after_s <= 0.5
    time.sleep(0.6)  # the cooldown passes: calls go through again (half-open)
    second.before_call()
    second.record_success()
    assert shared_redis.get(FAILURES_KEY) is None


def test_a_success_resets_the_failure_count(shared_redis: redis.Redis) -> None:
    first, _ = two_workers(shared_redis, breaker_failures=3)
    first.record_failure()
    first.record_failure()
    first.record_success()
    first.record_failure()
    first.before_call()  # still closed: failures do not accumulate across a success


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
