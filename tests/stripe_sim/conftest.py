"""Fixtures for the simulator's own tests: one server per session, reset for every test.

Tests talk to it only over HTTP: the real stripe SDK, `requests` for raw calls and the
/_sim control API, and a local webhook receiver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import stripe
from sim_helpers import API_KEY, SIM_TESTS_RATE_PER_S, Control, Hooks, Receiver
from stripe._http_client import HTTPClient

from payments.gateway.pacing import WaitingRequestsClient, shared_pacer
from stripe_sim.server import RunningSimulator, start_simulator


@pytest.fixture(scope="session")
def sim_server() -> Iterator[RunningSimulator]:
    sim = start_simulator(host="127.0.0.1", port=0, api_key=API_KEY)
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_server: RunningSimulator) -> RunningSimulator:
    requests.post(f"{sim_server.url}/_sim/reset", timeout=10).raise_for_status()
    return sim_server


@pytest.fixture(autouse=True)
def _fast_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK sleeps 0.5 s and more between retries; the suite must stay fast.
    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.05)


def _make_client(sim: RunningSimulator, retries: int, **kwargs: Any) -> stripe.StripeClient:
    # The simulator limits sk_test_ keys to 25 requests/s, as Stripe does: the tests' clients
    # keep under it the way ours do (payments/gateway/pacing.py).
    http = WaitingRequestsClient(shared_pacer(SIM_TESTS_RATE_PER_S).wait, timeout=10)
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": sim.url, "files": sim.url, "connect": sim.url},
        max_network_retries=retries,
        http_client=http,
        **kwargs,
    )


@pytest.fixture
def make_client(sim: RunningSimulator) -> Iterator[Callable[..., stripe.StripeClient]]:
    made: list[stripe.StripeClient] = []

    def make(retries: int = 0, **kwargs: Any) -> stripe.StripeClient:
        client = _make_client(sim, retries, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client._requestor._client.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: Callable[..., stripe.StripeClient]) -> stripe.StripeClient:
    """A client that does not retry: every response is seen as the simulator sent it."""
    return make_client(0)


@pytest.fixture
def ctl(sim: RunningSimulator) -> Iterator[Control]:
    control = Control(sim.url)
    yield control
    control.http.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.stop()


@pytest.fixture
def hooks(client: stripe.StripeClient) -> Iterator[Hooks]:
    h = Hooks(client)
    yield h
    h.stop()
