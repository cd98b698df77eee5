"""The demo's servers in processes of their own: stripe_sim, and the web side of our system.

Started with spawn, a child imports this module to find its target: so this module imports
nothing of the app at its top (the simulator's child would import the whole app, its ORM and
its actors, for nothing), and each target imports only what it serves.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from collections.abc import Callable
from typing import Any


class ServerProcess:
    """A server in a process of its own, as Stripe and a web process are outside the workers'
    process: it gets a core of its own instead of sharing the workers' interpreter lock. The
    demo talks to it over HTTP only."""

    def __init__(self, process: Any, connection: Any, url: str) -> None:
        self._process = process
        self._connection = connection
        self.url = url

    @classmethod
    def start(cls, target: Callable[..., None], name: str, *args: Any) -> ServerProcess:
        """Run `target(connection, *args)` in a child; it sends its URL once it listens."""
        context = multiprocessing.get_context("spawn")  # this process already runs threads
        ours, theirs = context.Pipe()
        process = context.Process(target=target, args=(theirs, *args), name=name, daemon=True)
        process.start()
        if not ours.poll(60):
            process.terminate()
            raise RuntimeError(f"{name} did not start within 60 s")
        return cls(process, ours, ours.recv())

    def send(self, value: Any) -> None:
        self._connection.send(value)

    def stop(self) -> None:
        self._process.terminate()  # SIGTERM: the server stops as on Ctrl-C
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def run_simulator(connection: Any, options: dict[str, Any]) -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from stripe_sim.server import start_simulator

    sim = start_simulator(**options)
    connection.send(sim.url)
    sim.serve_forever()


def run_web(connection: Any, environment: dict[str, str]) -> None:
    """The API and the webhook endpoint, configured from the environment as a production web
    process is (DATABASE_URL, REDIS_URL). It listens first and sends its address, so that
    stripe_sim can be told where to post; then it takes Stripe's address and serves."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    connection.send(f"http://{host}:{port}")
    os.environ.update(environment, STRIPE_API_BASE=connection.recv())
    from demo.web_app import serve_web

    serve_web(listener)
