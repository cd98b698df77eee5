"""Fixtures for the finance reports: a real reconciliation of the simulator (a day of activity
through our services plus out-of-band changes), the app on the test's database, API keys per
role, and signed-in test clients.

--import-mode=importlib puts no test folder on sys.path: this one and the reconciliation and
web helpers' folders are added so their helpers are shared, not copied.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

_HERE = Path(__file__).parent
for folder in (_HERE, _HERE.parent / "reconciliation", _HERE.parent / "web"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from recon_world import World  # noqa: E402
from report_helpers import Browserless, ReportDay, make_report_day  # noqa: E402
from web_helpers import make_test_app  # noqa: E402

from models.db import transaction  # noqa: E402
from payments.gateway import StripeGateway  # noqa: E402
from web.keys import create_key  # noqa: E402


@pytest.fixture
def world(sessions: sessionmaker[Session], gateway: StripeGateway, stripe_sim: Any) -> World:
    return World(sessions, gateway, stripe_sim.url)


@pytest.fixture
def report_day(world: World) -> ReportDay:
    """Yesterday reconciled for real, with planted discrepancies; a clean day before it."""
    return make_report_day(world)


@pytest.fixture
def app(sessions: sessionmaker[Session], gateway: StripeGateway, broker: Any) -> Flask:
    return make_test_app(sessions, gateway)


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    out = {}
    with transaction(sessions) as session:
        for role in ("backend", "finance", "admin"):
            _, out[role] = create_key(session, role=role, name=f"{role} person")
    return out


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
