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

    def __init__(self, process: Any, connection: Any, name: str) -> None:
        self._process = process
        self._connection = connection
        self._name = name
        self._url: str | None = None

    @classmethod
    def start(cls, target: Callable[..., None], name: str, *args: Any) -> ServerProcess:
        """Run `target(connection, *args)` in a child; it sends its URL once it listens. Does
        not wait for it: `url` does, so the child's start-up overlaps the caller's."""
        context = multiprocessing.get_context("spawn")  # this process already runs threads
        ours, theirs = context.Pipe()
        process = context.Process(target=target, args=(theirs, *args), name=name, daemon=True)
        process.start()
        return cls(process, ours, name)

    @property
    def url(self) -> str:
        if self._url is None:
            if not self._connection.poll(60):
                self._process.terminate()
                raise RuntimeError(f"{self._name} did not start within 60 s")
            self._url = str(self._connection.recv())
        return self._url

    def send(self, value: Any) -> None:
        self._connection.send(value)

    @staticmethod
    def stop_all(servers: list[ServerProcess]) -> None:
        """Stop every server, all at once (SIGTERM: each stops as on Ctrl-C)."""
        for server in servers:
            server._process.terminate()
        for server in servers:
            server._process.join(10)
            if server._process.is_alive():
                server._process.kill()
                server._process.join()


def run_simulator(connection: Any, options: dict[str, Any]) -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from stripe_sim.server import start_simulator

    sim = start_simulator(**options)
    connection.send(sim.url)
    sim.serve_forever()


def run_web(connection: Any) -> None:
    """The API and the webhook endpoint, configured from the environment as a production web
    process is (DATABASE_URL, REDIS_URL, STRIPE_API_BASE). It listens first and sends its
    address, so that stripe_sim can be told where to post; it imports the app while the demo
    starts the rest (its configuration is read when it serves, not on import); then it takes
    its environment and serves."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    connection.send(f"http://{host}:{port}")
    from demo.web_app import serve_web

    os.environ.update(connection.recv())
    serve_web(listener)
