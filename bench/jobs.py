"""Charge jobs per second end to end, against a no-op actor's rate on the same broker.

Real PostgreSQL (DATABASE_URL, else the embedded one), a private Redis, stripe_sim in its own
process at zero latency, and 2 Dramatiq worker processes (`dramatiq jobs.worker bench_noop`). Prints
both rates, their ratio, each worker's RSS, and a profile of where a charge job's time goes.

    python bench/jobs.py [--charges 600] [--noops 4000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import dramatiq
import psutil
import redis
import support_path  # noqa: E402, F401  (tests/support on sys.path)
from dramatiq.brokers.redis import RedisBroker
from loopback_processes import PrivateRedis, kill_group, start_stripe_sim, start_workers
from scratch_databases import ScratchDatabases, server_url
from sqlalchemy import create_engine, func, select

from config import load_settings
from models import Payment
from models.db import make_session_factory, transaction
from models.migrate import upgrade
from models.money import Money
from payments import charges, parties
from payments.gateway import StripeGateway, make_stripe_client

API_KEY = "sk_test_midway"
HERE = Path(__file__).parent


def wait_for(check, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark work did not drain")
        time.sleep(0.01)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charges", type=int, default=600)
    parser.add_argument("--noops", type=int, default=4000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="midway-bench-jobs-"))
    databases = ScratchDatabases(server_url(work))
    url = databases.create("midway_bench_jobs")
    upgrade(url)
    private_redis = PrivateRedis(work)
    private_redis.start()
    # Our own cost is measured, not Stripe's 25/s sandbox limit: lifted on both sides.
    sim, sim_url = start_stripe_sim(work, API_KEY, "--rate-limit-test", "0")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        REDIS_URL=private_redis.url,
        STRIPE_API_BASE=sim_url,
        STRIPE_API_KEY=API_KEY,
        PROMETHEUS_METRICS="off",
        LOG_LEVEL="WARNING",
        # The simulator is not Stripe: lift the shared ceiling so it measures our own cost.
        STRIPE_RATE_LIMIT_PER_S="100000",
    )
    workers = start_workers(
        work / "workers.log",
        env,
        modules=("jobs.worker", "bench_noop"),
        processes=2,
        threads=8,
        extra_paths=(str(HERE / "actors"),),
    )
    sessions = make_session_factory(create_engine(url))
    # The in-process profile below measures our own cost too: no pacing at the sandbox's 25/s.
    bench_settings = load_settings({"STRIPE_API_KEY": API_KEY, "STRIPE_RATE_LIMIT_PER_S": "100000"})
    gateway = StripeGateway(make_stripe_client(bench_settings, sim_url))
    broker = RedisBroker(url=private_redis.url)
    client = redis.Redis.from_url(private_redis.url)
    try:
        with transaction(sessions) as session:
            shipper = parties.create_shipper(session, name="B", email="b@x.test", external_id="b")
            carrier = parties.create_carrier(
                session, name="C", email="c@x.test", country="US", default_currency="usd"
            )
        parties.ensure_customer(sessions, gateway, shipper.id)

        def enqueue(queue: str, actor: str, ids: range | list[int]) -> None:
            for index in ids:
                broker.enqueue(
                    dramatiq.Message(
                        queue_name=queue, actor_name=actor, args=(index,), kwargs={}, options={}
                    )
                )

        # Warm up: workers booted and connected before anything is timed.
        enqueue("bench_noop", "noop", range(20))
        wait_for(lambda: client.hlen("dramatiq:bench_noop.msgs") == 0, 60)

        start = time.perf_counter()
        enqueue("bench_noop", "noop", range(args.noops))
        wait_for(lambda: client.hlen("dramatiq:bench_noop.msgs") == 0, 120)
        noop_rate = args.noops / (time.perf_counter() - start)

        def new_payments(count: int, tag: str) -> list[int]:
            with transaction(sessions) as session:
                return [
                    charges.create_payment(
                        session,
                        shipper_id=shipper.id,
                        carrier_id=carrier.id,
                        load_reference=f"{tag}-{i}",
                        amount=Money(10000 + i, "usd"),
                        carrier_amount=8000,
                        payment_method="pm_card_bypassPending",
                    ).id
                    for i in range(count)
                ]

        def unfinished() -> int:
            with sessions() as session:
                return int(
                    session.scalar(
                        select(func.count())
                        .select_from(Payment)
                        .where(Payment.recovery_point != "finished")
                    )
                    or 0
                )

        warm = new_payments(20, "warm")
        enqueue("charges", "advance_payment", warm)
        wait_for(lambda: unfinished() == 0, 60)

        ids = new_payments(args.charges, "bench")
        start = time.perf_counter()
        enqueue("charges", "advance_payment", ids)
        wait_for(lambda: unfinished() == 0, 300)
        charge_rate = args.charges / (time.perf_counter() - start)
        with sessions() as session:
            succeeded = session.scalar(
                select(func.count()).select_from(Payment).where(Payment.status == "succeeded")
            )

        rss = [
            child.memory_info().rss / 2**20
            for child in psutil.Process(workers.pid).children(recursive=True)
            if "dramatiq" in " ".join(child.cmdline())
        ]
        print(f"no-op actor:      {noop_rate:8.0f} messages/s ({args.noops} messages)")
        print(
            f"charge jobs:      {charge_rate:8.0f} payments/s end to end "
            f"({args.charges} payments, {succeeded} succeeded in all)"
        )
        print(f"ratio:            {charge_rate / noop_rate:8.3f}  (aim >= 0.3)")
        print("worker RSS (MiB): " + ", ".join(f"{r:.0f}" for r in rss))

        profile_ids = new_payments(100, "profile")
        profiler = cProfile.Profile()
        profiler.enable()
        for payment_id in profile_ids:
            charges.advance_payment(sessions, gateway, payment_id)
        profiler.disable()
        print_profile(profiler)
    finally:
        kill_group(workers)
        kill_group(sim)
        private_redis.stop()
        broker.close()
        databases.drop(url)
        databases.close()


def print_profile(profiler: cProfile.Profile) -> None:
    """Own time of one charge job, grouped by where it is spent (single thread, in-process)."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    groups: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += own
        for marker, group in (
            ("/stripe/", "stripe SDK"),
            ("/requests/", "HTTP (requests/urllib3)"),
            ("/urllib3/", "HTTP (requests/urllib3)"),
            ("/http/", "HTTP (requests/urllib3)"),
            ("/socket", "socket wait (simulator)"),
            ("/ssl", "socket wait (simulator)"),
            ("/sqlalchemy/", "SQLAlchemy"),
            ("/psycopg", "psycopg (PostgreSQL wait)"),
            ("/work/main/", "midway code"),
            ("payments/", "midway code"),
        ):
            if marker in filename:
                groups[group] += own
                break
        else:
            groups["other (stdlib, json, …)"] += own
    print("where a charge job's time goes (cProfile own time, 100 jobs in one thread):")
    for group, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        print(f"  {group:28s} {seconds * 10:6.2f} ms/job  {100 * seconds / total:5.1f} %")
    print("top functions by own time:")
    stats.sort_stats("tottime")
    top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:12]  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, own, _, _) in top:
        where = f"{name} ({Path(filename).name}:{line})"
        print(f"  {own * 10:6.2f} ms/job {calls / 100:7.1f} calls/job  {where}")


if __name__ == "__main__":
    sys.exit(main())
