"""The whole system on the embedded default, for the demo: our side in one process, Stripe's
(stripe_sim) in another.

The embedded PostgreSQL keeps its data in the demo's folder; Dramatiq's real RedisBroker runs
on fakeredis with worker threads; stripe_sim serves on a free loopback port from its own
process and posts its webhooks to the app, which listens on another. Everything stops with the
stack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dramatiq
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from config import Settings
from demo.simulator_process import SimulatorProcess
from jobs import runtime
from jobs.broker import current_broker
from jobs.embedded_broker import WakingRedisBroker
from jobs.messages import QUEUES
from jobs.setup import start
from models.db import database_url, make_engine, make_session_factory
from models.migrate import upgrade
from payments.webhook_events import HANDLERS
from reconciliation.stripe_http import StripeHTTP
from web import create_app

# How long the drain trusts the broker's count of unsettled messages before polling sizes.
HINTED_WAIT_S = 10


@dataclass
class Stack:
    settings: Settings
    sessions: sessionmaker[Session]
    sim: SimulatorProcess
    app: Flask
    app_url: str
    worker: dramatiq.Worker

    def client(self) -> FlaskClient:
        return self.app.test_client()

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


def _serve(app: Flask) -> tuple[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per webhook is noise
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@contextmanager
def running_stack(settings: Settings, *, worker_threads: int = 8) -> Iterator[Stack]:
    url = database_url(settings)
    upgrade(url)
    # The demo's data is thrown away on the next run: no need to wait for each commit's flush.
    engine = make_engine(
        url,
        pool_size=20,
        max_overflow=10,
        connect_args={"options": "-c synchronous_commit=off"},
    )
    sessions = make_session_factory(engine)
    broker = start(settings)  # the broker, then every actor
    from jobs.reconciliation import configure as configure_reconciliation

    broker.flush_all()
    app = create_app(
        {"SETTINGS": settings, "SESSIONS": sessions, "BROKER": broker, "RATE_LIMIT": (100_000, 1)}
    )
    app_url, app_server = _serve(app)
    sim = SimulatorProcess.start(
        api_key=settings.stripe_api_key,
        webhook_url=f"{app_url}/api/webhooks/stripe",
        webhook_secret=settings.stripe_webhook_secrets[0],
        # Subscribe to what the system acts on, as a production endpoint would.
        webhook_events=tuple(HANDLERS),
    )
    runtime.configure(sessions=sessions)
    runtime.use_stripe_base(sim.url)
    configure_reconciliation(StripeHTTP(sim.url, settings.stripe_api_key, timeout=(5, 60)))
    # Consumers are woken by the enqueues (jobs/embedded_broker.py): the timeout is only how
    # often an idle one looks anyway, and every client of this fakeredis is in this process.
    worker = dramatiq.Worker(broker, worker_timeout=1000, worker_threads=worker_threads)
    worker.start()
    try:
        yield Stack(settings, sessions, sim, app, app_url, worker)
    finally:
        worker.stop()
        sim.stop()
        app_server.shutdown()
        configure_reconciliation(None)
        runtime.configure()
