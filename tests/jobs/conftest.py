"""A small marketplace of real processes for exactly-once tests.

stripe_sim in its own process, Dramatiq worker processes (`dramatiq jobs`), a Redis of the
test's own that it can restart with its data gone, and PostgreSQL. Everything listens on
loopback, and every process is killed when the test ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis
import requests
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from payments.gateway import StripeGateway, make_stripe_client
from payments.sweeper import find_stuck

BIN = Path(sys.executable).parent
API_KEY = "sk_test_midway"
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout} s")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


class OwnRedis:
    """A Redis only this test uses; restart() brings it back empty, like the Redis here (no
    persistence). redis-server when installed (always in CI), else fakeredis's TCP server."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._fake: Any = None
        self.binary = shutil.which("redis-server")
        if self.binary is None and IN_CI:
            pytest.fail("CI=true but redis-server is not installed")

    def start(self) -> None:
        if self.binary:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self._log_dir),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        else:
            import fakeredis

            self._fake = fakeredis.TcpFakeServer(("127.0.0.1", self.port), server_type="redis")
            threading.Thread(target=self._fake.serve_forever, daemon=True).start()
        wait_until(lambda: redis.Redis.from_url(self.url).ping(), 10, "redis")

    def stop(self) -> None:
        if self._process is not None:
            kill_group(self._process)
            self._process = None
        if self._fake is not None:
            self._fake.shutdown()
            self._fake.server_close()
            self._fake = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Cluster:
    """The processes of one test, plus a broker client for enqueueing into them."""

    sessions: sessionmaker[Session]
    database_url: str
    redis: OwnRedis
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

    def worker_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            STRIPE_API_BASE=self.sim_url,
            STRIPE_API_KEY=API_KEY,
            STRIPE_RATE_LIMIT_PER_S="200",
            STRIPE_BREAKER_FAILURES="50",
            STRIPE_BREAKER_COOLDOWN_S="1",
            STRIPE_READ_TIMEOUT_S="5",
            PROMETHEUS_METRICS="off",
            LOG_LEVEL="WARNING",
        )
        env.update(self.extra_env)
        return env

    def start_worker(self, index: int) -> None:
        log = open(self.log_dir / f"worker-{index}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [str(BIN / "dramatiq"), "jobs", "--processes", "1", "--threads", "4"],
            env=self.worker_env(),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
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
        with self.sessions() as session:
            stuck = find_stuck(session, older_than_s=older_than_s)
        for queue, actor, ids in (
            ("customers", "create_customer", stuck.customers),
            ("accounts", "create_connected_account", stuck.accounts),
            ("charges", "advance_payment", stuck.payments),
            ("refunds", "advance_refund", stuck.refunds),
            ("payouts", "advance_batch", stuck.batches),
            ("webhooks", "process_event", stuck.events),
        ):
            for row_id in ids:
                self.send(queue, actor, row_id)
        return stuck.total()


@pytest.fixture
def stripe_sim_process(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = open(tmp_path / "stripe-sim.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(BIN / "midway"), "stripe-sim", "--port", str(port), "--api-key", API_KEY],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/_sim/state", timeout=1).ok, 20, "stripe_sim")
        yield url
    finally:
        kill_group(process)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster(
    sessions: sessionmaker[Session],
    committed_database_url: str,
    own_redis: OwnRedis,
    stripe_sim_process: str,
    tmp_path: Path,
) -> Iterator[Cluster]:
    cluster = Cluster(sessions, committed_database_url, own_redis, stripe_sim_process, tmp_path)
    yield cluster
    cluster.stop()


# Let test modules here import scenario.py (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))


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
    own_redis: OwnRedis, stripe_sim_process: str, tmp_path: Path
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
    engine.dispose()  # the server itself stops when this process exits
