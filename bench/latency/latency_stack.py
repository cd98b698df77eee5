"""The stack bench/jobs_latency.py measures, and the load it offers: stripe_sim in its own process
(Stripe's rate limit on), the Procfile's web line under gunicorn, the default `midway worker`,
on a scratch database and a private Redis; payments posted over HTTP by an open-loop load
generator (tests/support/http_load.py) or accepted as rows and enqueued at a rate.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis
import requests
from http_load import Offered, Post, offer_load
from loopback_processes import (
    BIN,
    free_port,
    kill_group,
    procfile,
    spawn,
    start_procfile_process,
    start_stripe_sim,
    wait_until,
)
from sqlalchemy import Engine

from config import load_settings
from jobs.broker import make_broker
from jobs.messages import ADVANCE_PAYMENT
from models.db import make_engine, make_session_factory, transaction
from models.money import Money
from payments import charges, parties
from payments.gateway import StripeGateway, make_stripe_client
from web.keys import create_key

API_KEY = "sk_test_midway"
ROOT = Path(__file__).parents[2]
API_KEYS = 10  # the load is spread over them (the API limits requests per key)


@dataclass
class Stack:
    base: str
    sim_url: str
    engine: Engine
    redis: redis.Redis
    redis_url: str
    keys: list[str]
    shipper_id: int
    carrier_id: int
    work: Path
    env: dict[str, str]
    workers: subprocess.Popen[bytes] | None = None

    def start_workers(self) -> None:
        """The default `midway worker` (its processes and threads derived from the settings)."""
        self.workers = spawn([str(BIN / "midway"), "worker"], self.work / "workers.log", self.env)

    def stop_workers(self) -> None:
        if self.workers is not None:
            kill_group(self.workers, signal.SIGTERM)
            self.workers = None


@dataclass
class Sampler:
    """Peak RSS and PostgreSQL connections of each worker process, sampled while a run goes."""

    stack: Stack
    pg_port: int
    rss_mb: float = 0.0
    pg_connections: int = 0

    @property
    def workers(self) -> psutil.Process:
        assert self.stack.workers is not None
        return psutil.Process(self.stack.workers.pid)

    def processes(self) -> list[psutil.Process]:
        return self.workers.children(recursive=True)

    def sample(self) -> None:
        for process in self.processes():
            try:
                self.rss_mb = max(self.rss_mb, process.memory_info().rss / 2**20)
                connections = process.net_connections(kind="tcp")
            except psutil.NoSuchProcess:
                continue
            to_pg = sum(1 for c in connections if c.raddr and c.raddr.port == self.pg_port)
            self.pg_connections = max(self.pg_connections, to_pg)

    def cpu_s(self) -> float:
        total = 0.0
        for process in [self.workers, *self.processes()]:
            times = process.cpu_times()
            total += times.user + times.system
        return total


def payment_posts(stack: Stack, tag: str, count: int) -> list[Post]:
    """The POST /api/payments/intent requests of a run, spread over the API keys."""
    return [
        (
            "/api/payments/intent",
            {
                "customer_id": stack.shipper_id,
                "carrier_id": stack.carrier_id,
                "load_id": f"{tag}-{index}",
                "amount": 10_000 + index,
                "currency": "usd",
                "carrier_amount": 8_000,
                "payment_method": "pm_card_bypassPending",
            },
            {
                "Authorization": f"Bearer {stack.keys[index % len(stack.keys)]}",
                "Idempotency-Key": f"{tag}-{index}",
            },
        )
        for index in range(count)
    ]


def enqueue(stack: Stack, tag: str, count: int, rate: float | None) -> Offered:
    """POST count payments over HTTP from several processes; `rate` per second open loop, or
    (None) as fast as the API takes them."""
    offered = offer_load(stack.base, payment_posts(stack, tag, count), rate or 1e6)
    if offered.failures:
        raise SystemExit(f"{len(offered.failures)}+ enqueues failed, first: {offered.failures[0]}")
    return offered


def accept_rows(stack: Stack, tag: str, count: int) -> list[int]:
    """The payments of a run accepted as the API accepts them (the same service), not yet
    enqueued: the offered-load run can then enqueue them at its rate, at a Redis push each."""
    sessions = make_session_factory(stack.engine)
    ids = []
    for index in range(count):
        with transaction(sessions) as session:
            payment = charges.create_payment(
                session,
                shipper_id=stack.shipper_id,
                carrier_id=stack.carrier_id,
                load_reference=f"{tag}-{index}",
                amount=Money(10_000 + index, "usd"),
                carrier_amount=8_000,
                payment_method="pm_card_bypassPending",
            )
            session.flush()
            ids.append(payment.id)
    return ids


def enqueue_rows(stack: Stack, ids: list[int], rate: float) -> tuple[Offered, dict[int, float]]:
    """advance_payment for each row at `rate`/s, open loop, through a broker of our own (as the
    web's after-commit send does); returns when each was sent (unix s)."""
    broker = make_broker(load_settings({"REDIS_URL": stack.redis_url, "PROMETHEUS_METRICS": "off"}))
    sent_at: dict[int, float] = {}
    lateness = []
    begin = time.time() + 0.05
    try:
        for index, payment_id in enumerate(ids):
            due = begin + index / rate
            time.sleep(max(0.0, due - time.time()))
            broker.enqueue(ADVANCE_PAYMENT.message(payment_id))
            sent_at[payment_id] = time.time()
            lateness.append(sent_at[payment_id] - due)
    finally:
        broker.close()
    lateness.sort()
    span = max(sent_at.values()) - begin
    offered = Offered(len(ids), [], len(ids) / span, lateness[int(0.99 * (len(lateness) - 1))])
    return offered, sent_at


def start_stack(
    work: Path, database_url: str, redis_url: str, limit: int, web_workers: int
) -> tuple[Stack, list]:
    # Stripe's own limit, as live mode has it: a request over it is answered 429.
    sim, sim_url = start_stripe_sim(work, API_KEY, "--rate-limit-test", str(limit))
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    gateway = StripeGateway(make_stripe_client(load_settings({"STRIPE_API_KEY": API_KEY}), sim_url))
    with transaction(sessions) as session:
        keys = [create_key(session, role="backend", name=f"bench-{i}")[1] for i in range(API_KEYS)]
        shipper = parties.create_shipper(session, name="B", email="b@x.test", external_id="b")
        carrier = parties.create_carrier(
            session, name="C", email="c@x.test", country="US", default_currency="usd"
        )
    parties.ensure_customer(sessions, gateway, shipper.id)
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STRIPE_API_BASE": sim_url,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_RATE_LIMIT_PER_S": str(limit),
        "WEB_BIND": f"127.0.0.1:{port}",
        "PROMETHEUS_METRICS": "off",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    for name in ("WORKER_PROCESSES", "WORKER_THREADS"):
        env.pop(name, None)  # the default `midway worker`
    # The Procfile's web line; the API only has to take the offered load, so it may get more
    # gunicorn workers here than production's two.
    web_line = re.sub(
        r"--workers \d+", f"--workers {web_workers}", procfile(ROOT / "Procfile")["web"]
    )
    web = start_procfile_process(web_line, work / "web.log", env)
    processes = [sim, web]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 60, "web")
    except TimeoutError:
        for process in reversed(processes):
            kill_group(process)
        raise
    stack = Stack(
        base,
        sim_url,
        engine,
        redis.Redis.from_url(redis_url),
        redis_url,
        keys,
        shipper.id,
        carrier.id,
        work,
        env,
    )
    stack.start_workers()
    return stack, processes
