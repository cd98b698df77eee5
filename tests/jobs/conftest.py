"""A small marketplace of real processes for exactly-once tests.

stripe_sim in its own process, Dramatiq worker processes (`dramatiq jobs.worker`), a Redis of the
test's own that it can restart with its data gone, and PostgreSQL. Everything listens on
loopback, and every process is killed when the test ends.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import requests
from ci import IN_CI
from dramatiq.brokers.redis import RedisBroker
from loopback_processes import PrivateRedis, kill_group, start_stripe_sim, start_workers
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from jobs.sweeper import stuck_messages
from models.db import transaction
from models.money import Money
from payments import charges, parties
from payments.gateway import StripeGateway, make_stripe_client

API_KEY = "sk_test_midway"


@dataclass
class Cluster:
    """The processes of one test, plus a broker client for enqueueing into them."""

    sessions: sessionmaker[Session]
    database_url: str
    redis: PrivateRedis
    sim_url: str
    log_dir: Path
    workers: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def gateway(self) -> StripeGateway:
        settings = load_settings({"STRIPE_API_KEY": API_KEY})
        return StripeGateway(make_stripe_client(settings, self.sim_url))

    def broker(self) -> RedisBroker:
        return RedisBroker(url=self.redis.url)

    def send(self, queue: str, actor: str, *args: int) -> None:
        broker = self.broker()
        try:
            broker.enqueue(
                dramatiq.Message(
                    queue_name=queue, actor_name=actor, args=args, kwargs={}, options={}
                )
            )
        finally:
            broker.close()

    def sim(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(f"{self.sim_url}/_sim/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def card_payments(self, count: int, tag: str) -> list[int]:
        """`count` committed card payments of one shipper (with its Stripe customer), pending."""
        with transaction(self.sessions) as session:
            shipper = parties.create_shipper(
                session, name=tag, email=f"{tag}@x.test", external_id=tag
            )
            carrier = parties.create_carrier(
                session, name="C", email=f"c-{tag}@x.test", country="US", default_currency="usd"
            )
        parties.ensure_customer(self.sessions, self.gateway, shipper.id)
        with transaction(self.sessions) as session:
            return [
                charges.create_payment(
                    session,
                    shipper_id=shipper.id,
                    carrier_id=carrier.id,
                    load_reference=f"{tag}-{i}",
                    amount=Money(1000 + i, "usd"),
                    carrier_amount=800,
                    payment_method="pm_card_bypassPending",
                ).id
                for i in range(count)
            ]

    def sim_get(self, path: str) -> dict[str, Any]:
        response = requests.get(f"{self.sim_url}/_sim/{path}", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def worker_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            STRIPE_API_BASE=self.sim_url,
            STRIPE_API_KEY=API_KEY,
            STRIPE_RATE_LIMIT_PER_S="20",  # under stripe_sim's default 25/s (sk_test_)
            STRIPE_BREAKER_FAILURES="50",
            STRIPE_BREAKER_COOLDOWN_S="1",
            STRIPE_READ_TIMEOUT_S="5",
            PROMETHEUS_METRICS="off",
            LOG_LEVEL="WARNING",
        )
        env.update(self.extra_env)
        return env

    def start_worker(self, index: int) -> None:
        process = start_workers(self.log_dir / f"worker-{index}.log", self.worker_env())
        if index < len(self.workers):
            self.workers[index] = process
        else:
            self.workers.append(process)

    def kill_worker(self, index: int) -> None:
        process = self.workers[index]
        if process is not None:
            kill_group(process)
            self.workers[index] = None

    def stop(self) -> None:
        for index in range(len(self.workers)):
            self.kill_worker(index)

    def sweep(self, older_than_s: int = 2) -> int:
        """What the scheduler's sweeper does every minute, enqueued into this cluster."""
        messages = stuck_messages(self.sessions, older_than_s)
        for ref, row_id in messages:
            self.send(ref.queue, ref.name, row_id)
        return len(messages)


@pytest.fixture
def stripe_sim_process(tmp_path: Path) -> Iterator[str]:
    process, url = start_stripe_sim(tmp_path, API_KEY)
    yield url
    kill_group(process)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, require_binary=IN_CI)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster(
    sessions: sessionmaker[Session],
    committed_database_url: str,
    own_redis: PrivateRedis,
    stripe_sim_process: str,
    tmp_path: Path,
) -> Iterator[Cluster]:
    cluster = Cluster(sessions, committed_database_url, own_redis, stripe_sim_process, tmp_path)
    yield cluster
    cluster.stop()


class OwnPostgres:
    """An embedded PostgreSQL only this test uses, so it can be restarted mid-batch."""

    def __init__(self, data_dir: Path) -> None:
        from models.db import embedded_server
        from models.migrate import upgrade

        self.server = embedded_server(data_dir)
        self.url = str(self.server.get_uri(driver="psycopg"))
        upgrade(self.url)

    def restart(self, down_for_s: float = 2.0) -> None:
        self.server._stop()
        time.sleep(down_for_s)
        with self.server._lock:
            self.server.ensure_postgres_running()


@pytest.fixture
def postgres_cluster(
    own_redis: PrivateRedis, stripe_sim_process: str, tmp_path: Path
) -> Iterator[tuple[Cluster, OwnPostgres]]:
    from sqlalchemy import create_engine

    from models.db import make_session_factory

    postgres = OwnPostgres(tmp_path / "own-postgres")
    engine = create_engine(postgres.url, pool_pre_ping=True)
    cluster = Cluster(
        make_session_factory(engine), postgres.url, own_redis, stripe_sim_process, tmp_path
    )
    yield cluster, postgres
    cluster.stop()
    engine.dispose()
    postgres.server.cleanup()  # stop it now, while its folder still exists
