"""stripe_sim in a process of its own, for the demo.

Started with spawn, the child imports this module to find its target: so this module imports
nothing of the app (the child would import the whole app, its ORM and its actors, for
nothing), and the target imports only stripe_sim.
"""

from __future__ import annotations

import multiprocessing
import signal
from typing import Any


class SimulatorProcess:
    """stripe_sim in a process of its own, as Stripe is outside ours: it gets a core of its own
    instead of sharing this process's interpreter lock with the app and the workers. The demo
    talks to it over HTTP only (its API and the /_sim control API)."""

    def __init__(self, process: Any, url: str) -> None:
        self._process = process
        self.url = url

    @classmethod
    def start(cls, **options: Any) -> SimulatorProcess:
        context = multiprocessing.get_context("spawn")  # this process already runs threads
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_run_simulator, args=(send, options), name="stripe-sim", daemon=True
        )
        process.start()
        if not receive.poll(60):
            process.terminate()
            raise RuntimeError("stripe_sim did not start within 60 s")
        return cls(process, receive.recv())

    def stop(self) -> None:
        self._process.terminate()  # SIGTERM: the simulator stops as on Ctrl-C
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _run_simulator(send: Any, options: dict[str, Any]) -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from stripe_sim.server import start_simulator

    sim = start_simulator(**options)
    send.send(sim.url)
    sim.serve_forever()
