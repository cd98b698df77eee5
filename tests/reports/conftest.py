"""Fixtures for the finance reports: a real reconciliation of the simulator (a day of activity
through our services plus out-of-band changes), the app on the test's database, API keys per
role, and signed-in test clients.
(`app` and `tokens` come from tests/conftest.py; helpers from tests/support.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from recon_world import World
from report_helpers import Browserless, ReportDay, make_report_day
from sqlalchemy.orm import Session, sessionmaker

from payments.gateway import StripeGateway


@pytest.fixture
def world(sessions: sessionmaker[Session], gateway: StripeGateway, stripe_sim: Any) -> World:
    return World(sessions, gateway, stripe_sim.url)


@pytest.fixture
def report_day(world: World) -> ReportDay:
    """Yesterday reconciled for real, with planted discrepancies; a clean day before it."""
    return make_report_day(world)


@pytest.fixture
def browserless(app: Flask, tokens: dict[str, str]) -> Callable[[str | None], Browserless]:
    """browserless("finance") → a test client signed in with that role's key (None: not)."""

    def make(role: str | None) -> Browserless:
        client = Browserless(app.test_client())
        if role is not None:
            client.sign_in(tokens[role])
        return client

    return make


@pytest.fixture
def queued(broker: Any) -> Callable[[str], list[Any]]:
    """Messages waiting in a queue (nothing consumes them without the `worker` fixture)."""
    from dramatiq import Message

    def read(queue: str) -> list[Any]:
        client = broker.client
        ids = client.lrange(f"{broker.namespace}:{queue}", 0, -1)
        raw = client.hmget(f"{broker.namespace}:{queue}.msgs", ids) if ids else []
        return [Message.decode(item) for item in raw if item]

    return read
