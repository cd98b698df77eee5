"""Two `midway scheduler` processes started by mistake, one restarted mid-period, a real
Dramatiq worker process, stripe_sim in its own process, PostgreSQL and a Redis of the test's
own: every nightly run and every payout batch exists exactly once."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ci import IN_CI
from loopback_processes import (
    BIN,
    PrivateRedis,
    kill_group,
    spawn,
    start_stripe_sim,
    start_workers,
    wait_until,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from models import ReconciliationRun
from models import ScheduledRun as ScheduledRunRow
from payments.gateway import StripeGateway, make_stripe_client
from scheduler.config import schedule_config
from scheduler.cron import CronTable
from scheduler.sender import Sender

API_KEY = "sk_test_midway"


@pytest.fixture
def processes() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for process in started:
        kill_group(process)


def test_two_scheduler_processes_run_each_period_once(
    sessions: sessionmaker[Session],
    committed_database_url: str,
    tmp_path: Path,
    processes: list[Any],
    market_factory: Any,
) -> None:
    redis_server = PrivateRedis(tmp_path, require_binary=IN_CI)
    redis_server.start()
    try:
        sim, sim_url = start_stripe_sim(tmp_path, API_KEY)
        processes.append(sim)
        gateway = StripeGateway(
            make_stripe_client(load_settings({"STRIPE_API_KEY": API_KEY}), sim_url)
        )
        market = market_factory(sessions, gateway, sim_url)
        rich, poor = market.carrier("Rich Routes"), market.carrier("Poor Paths")
        market.pay(rich, 25000)
        market.pay(poor, 4000)

        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
        env.update(
            DATABASE_URL=committed_database_url,
            REDIS_URL=redis_server.url,
            STRIPE_API_BASE=sim_url,
            STRIPE_API_KEY=API_KEY,
            STRIPE_RATE_LIMIT_PER_S="200",
            PROMETHEUS_METRICS="off",
            RECON_CATCHUP_DAYS="3",
            RECON_TIMEZONE="UTC",
            PAYOUT_BATCH_CRON="0 3 * * *",
            LOG_LEVEL="INFO",
        )
        processes.append(start_workers(tmp_path / "worker.log", env, threads=4))

        def scheduler(n: int) -> Any:
            process = spawn([str(BIN / "midway"), "scheduler"], tmp_path / f"sched-{n}.log", env)
            processes.append(process)
            return process

        first = scheduler(1)
        scheduler(2)
        table = CronTable(schedule_config(load_settings(env)), Sender(None))  # type: ignore[arg-type]
        owed = table.owed(table.now())
        expected = {(job, p) for job, ps in owed.items() for p in ps}
        assert len(owed["nightly_reconciliation"]) >= 2 and owed["payout_batching"]

        def done() -> set[tuple[str, str]]:
            with sessions() as session:
                rows = session.execute(
                    select(ScheduledRunRow.job, ScheduledRunRow.period).where(
                        ScheduledRunRow.status == "done"
                    )
                )
                return {(job, period) for job, period in rows}

        wait_until(lambda: expected <= done(), 90, "every owed period done")
        # One scheduler restarts mid-period: its catch-up on start finds nothing owed.
        kill_group(first)
        restarted = scheduler(3)
        wait_until(
            lambda: "enqueued catch_up" in (tmp_path / "sched-3.log").read_text(),
            30,
            "restart catch-up",
        )
        assert restarted.poll() is None
        days = owed["nightly_reconciliation"]
        wait_until(lambda: len(recon_runs(sessions)) >= len(days), 90, "reconciliations")
        time.sleep(3)  # anything doubled would show up by now

        with sessions() as session:
            rows = session.scalars(select(ScheduledRunRow)).all()
            assert all(row.attempts == 1 for row in rows), [(r.job, r.period) for r in rows]
        runs = recon_runs(sessions)
        assert Counter((day, account) for day, account, _ in runs) == {
            (day, "platform"): 1 for day in days
        }
        batches = market.batches()
        assert [(b.carrier_id, b.amount) for b in batches] == [(rich, 25000)]
    finally:
        redis_server.stop()


def recon_runs(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(ReconciliationRun.day, ReconciliationRun.account, ReconciliationRun.status)
        ).all()
    return [(day.isoformat(), account, status) for day, account, status in rows]
