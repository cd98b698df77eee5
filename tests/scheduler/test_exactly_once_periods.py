"""Two cron tables (two schedulers) driven over simulated periods, the real periodic actors
on the project's broker, real PostgreSQL: every period's effect happens exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine

from jobs import runtime, scheduled
from jobs.messages import SCHEDULED
from models import PayoutBatch
from models.db import make_session_factory, transaction
from payments import scheduled_runs as guard
from scheduler import periods
from scheduler.cron import CronTable
from scheduler.sender import Sender


def drain(broker: Any, worker: Any) -> None:
    broker.join("scheduled", timeout=60_000)
    worker.join()


def recon_messages(queued: Any) -> Counter[tuple[str, str]]:
    return Counter((m.args[0], m.args[1]) for m in queued("reconciliation"))


def test_the_scheduler_sends_to_actors_that_exist(broker: Any) -> None:
    registered = set(broker.get_declared_actors())
    assert {ref.name for ref in SCHEDULED} <= registered
    assert all(broker.get_actor(ref.name).queue_name == ref.queue for ref in SCHEDULED)


def test_two_schedulers_across_a_dst_change_reconcile_each_day_once(
    table_for: Any, scheduled_worker: Any, broker: Any, queued: Any, scheduled_runs: Any
) -> None:
    env = {"RECON_TIMEZONE": "America/New_York", "RECON_AT": "01:30"}
    first, second = table_for(**env), table_for(**env)
    trigger = first.config.recon_trigger()
    # Oct 30 – Nov 4 2025: clocks fall back on Nov 2, when 01:30 happens twice.
    start = datetime(2025, 10, 30, 12, tzinfo=UTC)
    fires = [trigger.get_next_fire_time(None, start)]
    while len(fires) < 6:
        fires.append(trigger.get_next_fire_time(fires[-1], fires[-1] + timedelta(seconds=1)))
    for at in fires:
        assert first.fire(periods.RECONCILIATION, at) and second.fire(periods.RECONCILIATION, at)
    drain(broker, scheduled_worker)
    days = ["2025-10-30", "2025-10-31", "2025-11-01", "2025-11-02", "2025-11-03"]
    assert [(r.period, r.status, r.attempts) for r in scheduled_runs(periods.RECONCILIATION)] == [
        (day, "done", 1) for day in days
    ]
    # Twelve messages (two schedulers, the doubled hour), one reconciliation per day.
    assert recon_messages(queued) == {(day, "platform"): 1 for day in days}
    assert {m.args[2] for m in queued("reconciliation")} == {"America/New_York"}


def test_two_schedulers_batch_payouts_once_per_period_with_roll_over(
    market: Any, table_for: Any, scheduled_worker: Any, broker: Any, scheduled_runs: Any
) -> None:
    a, b = market.carrier("Alpha Trucking"), market.carrier("Beta Haulage")
    first, second = table_for(), table_for()
    trigger = first.config.payout_trigger()
    day = datetime(2026, 3, 9, tzinfo=UTC)

    def period(n: int, pays: dict[int, int]) -> list[PayoutBatch]:
        for carrier_id, amount in pays.items():
            market.pay(carrier_id, amount)
        at = trigger.get_next_fire_time(None, day + timedelta(days=n))
        # Both schedulers fire, and one is restarted: it fires again for the same period.
        for table in (first, second, first):
            assert table.fire(periods.PAYOUTS, at)
        drain(broker, scheduled_worker)
        made = [batch for batch in market.batches() if batch.period == at.date()]
        for batch in made:
            market.advance(batch.id)
        return made

    assert [(x.carrier_id, x.amount) for x in period(0, {a: 15000, b: 9999})] == [(a, 15000)]
    assert [(x.carrier_id, x.amount) for x in period(1, {a: 5000, b: 1})] == [(b, 10000)]
    assert [(x.carrier_id, x.amount) for x in period(2, {a: 5000})] == [(a, 10000)]
    assert period(3, {}) == []
    rows = scheduled_runs(periods.PAYOUTS)
    assert [(r.period, r.status, r.attempts) for r in rows] == [
        (f"2026-03-{d}", "done", 1) for d in ("09", "10", "11", "12")
    ]
    assert rows[0].detail["totals"] == {"usd": {"carriers": 1, "transfer": 15000, "payout": 15000}}
    assert len(market.batches()) == 3


def test_catch_up_after_a_three_day_outage_runs_only_the_missed_days(
    table_for: Any, scheduled_worker: Any, broker: Any, queued: Any, scheduled_runs: Any
) -> None:
    table = table_for(RECON_CATCHUP_DAYS="7")
    now = datetime(2026, 3, 20, 9, tzinfo=UTC)
    # Up and firing every night until the night of the 16th; then down three nights.
    for n in range(11, 17):
        night = datetime(2026, 3, n, 2, tzinfo=UTC)
        table.fire(periods.RECONCILIATION, night)
        table.fire(periods.PAYOUTS, night + timedelta(hours=1))
    drain(broker, scheduled_worker)
    before = recon_messages(queued)
    assert sorted(day for day, _ in before) == [f"2026-03-{d}" for d in range(10, 16)]

    # Restarted on the 20th at 09:00: catch-up on start owes the 13th…19th; 16th–19th are new.
    restarted = CronTable(table.config, table.out, now=lambda: now)
    assert restarted.fire("catch_up")
    drain(broker, scheduled_worker)
    after = recon_messages(queued) - before
    assert after == {(f"2026-03-{d}", "platform"): 1 for d in range(16, 20)}
    days = [r.period for r in scheduled_runs(periods.RECONCILIATION)]
    assert days == [f"2026-03-{d}" for d in range(10, 20)]
    assert [r.period for r in scheduled_runs(periods.PAYOUTS)] == [
        f"2026-03-{d}" for d in range(11, 21)
    ]
    # A second catch-up (the 5-minute check, or a second scheduler) owes nothing.
    assert restarted.catch_up(now)
    drain(broker, scheduled_worker)
    assert recon_messages(queued) - before == after
    assert all(r.attempts == 1 for r in scheduled_runs())


def test_redis_down_at_fire_time_is_retried_by_catch_up_never_skipped(
    table_for: Any, scheduled_worker: Any, broker: Any, queued: Any, scheduled_runs: Any
) -> None:
    live = table_for()
    dead_redis = RedisBroker(
        client=redis.Redis(
            host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
        )
    )
    down = CronTable(live.config, Sender(dead_redis))
    night = datetime(2026, 3, 10, 2, tzinfo=UTC)
    assert down.fire(periods.RECONCILIATION, night) is False  # logged, not raised
    assert down.fire(periods.PAYOUTS, night + timedelta(hours=1)) is False
    assert scheduled_runs() == []
    # Redis is back; the next catch-up check (every 5 minutes, and on start) sends them.
    assert live.catch_up(night + timedelta(hours=1, minutes=5))
    drain(broker, scheduled_worker)
    assert recon_messages(queued)[("2026-03-09", "platform")] == 1
    done = {(r.job, r.period) for r in scheduled_runs() if r.status == "done"}
    assert {(periods.RECONCILIATION, "2026-03-09"), (periods.PAYOUTS, "2026-03-10")} <= done


def test_the_database_down_at_run_time_is_a_retry_then_one_run(
    sessions: Any, broker: Any, queued: Any, scheduled_runs: Any
) -> None:
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    runtime.configure(sessions=make_session_factory(dead))
    try:
        with pytest.raises(Exception) as retried:
            scheduled.run_payout_batching.fn("2026-03-10")
        assert type(retried.value).__name__ == "Retry"  # dramatiq retries it with a delay
    finally:
        runtime.configure(sessions=sessions)
    try:
        scheduled.run_payout_batching.fn("2026-03-10")
        scheduled.run_payout_batching.fn("2026-03-10")
    finally:
        runtime.configure()
    (row,) = scheduled_runs()
    assert (row.job, row.period, row.status, row.attempts) == (
        periods.PAYOUTS,
        "2026-03-10",
        "done",
        1,
    )


def test_a_failed_try_is_recorded_then_the_retry_completes_the_period(
    sessions: Any, scheduled_runs: Any
) -> None:
    runtime.configure(sessions=sessions)
    effects: list[str] = []

    def flaky(session: Any) -> dict[str, Any]:
        effects.append("tried")
        if len(effects) == 1:
            raise RuntimeError("Stripe said no")
        return {"ok": True}

    try:
        with pytest.raises(RuntimeError):
            scheduled.run_once("test_job", "2026-03-10", flaky)
        (failed,) = scheduled_runs("test_job")
        assert (failed.status, failed.error) == ("failed", "RuntimeError: Stripe said no")
        assert scheduled.run_once("test_job", "2026-03-10", flaky) == {"ok": True}
        assert scheduled.run_once("test_job", "2026-03-10", flaky) is None
    finally:
        runtime.configure()
    (done,) = scheduled_runs("test_job")
    assert (done.status, done.attempts, done.error, done.detail) == ("done", 2, None, {"ok": True})
    assert effects == ["tried", "tried"]


def test_concurrent_claims_of_one_period_produce_one_effect(sessions: Any) -> None:
    effects: list[int] = []
    barrier = threading.Barrier(4)

    def attempt(n: int) -> None:
        barrier.wait()
        with transaction(sessions) as session:
            run = guard.claim(session, "race", "2026-03-10")
            if run is None:
                return
            time.sleep(0.2)  # the others wait on the advisory lock meanwhile
            effects.append(n)
            guard.finish(session, run)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(effects) == 1
