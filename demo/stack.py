"""The whole system on the embedded default, for the demo, in three processes as production
runs it: the workers (this process), the web side (the API and the webhook endpoint), and
Stripe's side (stripe_sim).

The embedded PostgreSQL keeps its data in the demo's folder; Dramatiq's real RedisBroker runs
on fakeredis with worker threads here, and the web process reaches the same fakeredis over
loopback; stripe_sim serves on a free loopback port and posts its webhooks to the web process,
which listens on another. Everything stops with the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import dramatiq
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from demo.server_process import ServerProcess, run_simulator, run_web
from jobs import runtime
from jobs.broker import current_broker
from jobs.embedded_broker import WakingRedisBroker
from jobs.embedded_redis_tcp import LoopbackRedisServer
from jobs.messages import QUEUES
from jobs.setup import start
from models.db import database_url, make_engine, make_session_factory
from models.migrate import upgrade
from payments.webhook_events import HANDLERS
from reconciliation.stripe_http import StripeHTTP
from web import create_app

# The backend's requests are the demo's whole load: no per-key limit on them.
RATE_LIMIT = (100_000, 1)
# How often an idle worker thread looks whether the worker is stopping.
WORKER_STOP_POLL_S = 0.05
# How long the drain trusts the broker's count of unsettled messages before polling sizes.
HINTED_WAIT_S = 10


@dataclass
class Stack:
    settings: Settings
    sessions: sessionmaker[Session]
    sim: ServerProcess
    web: ServerProcess
    app: Flask  # in this process too, for the finance pages the demo writes out
    worker: dramatiq.Worker

    def drain(self, timeout_s: float = 120) -> None:
        """Wait until every queue is empty and every message in flight is done."""
        broker = current_broker()
        for _ in range(3):  # a job's Stripe call may bring a webhook after the job is done
            # Woken when the last message is acknowledged (a night is a chain of short jobs,
            # each of which the demo waits for); the queues' sizes then confirm it, and take
            # over if a count went astray.
            if isinstance(broker, WakingRedisBroker):
                broker.wait_until_settled(min(timeout_s, HINTED_WAIT_S))
            for queue in QUEUES:
                broker.join(queue, interval=10, timeout=int(timeout_s * 1000))
            self.worker.join()


def demo_engine(url: str) -> Engine:
    # The demo's data is thrown away on the next run: no need to wait for each commit's flush.
    return make_engine(
        url,
        pool_size=20,
        max_overflow=10,
        connect_args={"options": "-c synchronous_commit=off"},
    )


@contextmanager
def running_stack(settings: Settings, *, worker_threads: int = 8) -> Iterator[Stack]:
    with ExitStack() as started:  # whatever started stops, also when a later step fails
        # The servers start first: their interpreters import while this process starts the
        # embedded PostgreSQL and migrates it. The web process listens at once (stripe_sim
        # must know where to post) and is told the rest of its environment below.
        servers: list[ServerProcess] = []
        started.callback(ServerProcess.stop_all, servers)
        web = ServerProcess.start(run_web, "web")
        servers.append(web)
        sim = ServerProcess.start(
            run_simulator,
            "stripe-sim",
            {
                "api_key": settings.stripe_api_key,
                "webhook_url": f"{web.url}/api/webhooks/stripe",
                "webhook_secret": settings.stripe_webhook_secrets[0],
                # Subscribe to what the system acts on, as a production endpoint would.
                "webhook_events": tuple(HANDLERS),
            },
        )
        servers.append(sim)
        url = database_url(settings)
        upgrade(url)
        engine = demo_engine(url)
        started.callback(engine.dispose)
        sessions = make_session_factory(engine)
        broker = start(settings)  # the broker, then every actor
        if not isinstance(broker, WakingRedisBroker):
            raise RuntimeError("the demo runs on the embedded default: unset REDIS_URL")
        from jobs.reconciliation import configure as configure_reconciliation

        broker.flush_all()
        app = create_app(
            {"SETTINGS": settings, "SESSIONS": sessions, "BROKER": broker, "RATE_LIMIT": RATE_LIMIT}
        )
        redis_server = LoopbackRedisServer(broker).start()
        started.callback(redis_server.stop)
        web.send({"DATABASE_URL": url, "REDIS_URL": redis_server.url, "STRIPE_API_BASE": sim.url})
        runtime.configure(sessions=sessions)
        runtime.use_stripe_base(sim.url)
        started.callback(runtime.configure)
        configure_reconciliation(StripeHTTP(sim.url, settings.stripe_api_key, timeout=(5, 60)))
        started.callback(configure_reconciliation, None)
        # Consumers are woken by the enqueues, here and through the loopback server
        # (jobs/embedded_broker.py): the timeout is only how often an idle one looks anyway.
        worker = dramatiq.Worker(broker, worker_timeout=1000, worker_threads=worker_threads)
        worker.start()
        for thread in worker.workers:
            # A worker thread sees a stop only when its wait for work times out (the worker
            # timeout): a short wait here, so the demo stops at once, not a second later.
            thread.timeout = WORKER_STOP_POLL_S
        started.callback(worker.stop)  # first to stop: callbacks run last in, first out
        yield Stack(settings, sessions, sim, web, app, worker)
