"""Fixtures for the web API: an app on the test's own database, the project broker (flushed),
the simulator's gateway, and one API key per role."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from web_helpers import Api, create_parties, make_test_app  # noqa: E402

from models.db import transaction  # noqa: E402
from payments.gateway import StripeGateway  # noqa: E402
from web.keys import create_key  # noqa: E402


@pytest.fixture
def app(sessions: sessionmaker[Session], gateway: StripeGateway, broker: Any) -> Flask:
    return make_test_app(sessions, gateway)


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    out = {}
    with transaction(sessions) as session:
        for role in ("backend", "finance", "admin"):
            _, out[role] = create_key(session, role=role, name=f"test {role}")
    return out


@pytest.fixture
def api(app: Flask, tokens: dict[str, str]) -> Callable[[str | None], Api]:
    """api("backend") → a client with the backend key; api(None) → no key."""

    def make(role: str | None = "backend") -> Api:
        return Api(app.test_client(), tokens[role] if role else None)

    return make


@pytest.fixture
def backend(api: Callable[[str | None], Api]) -> Api:
    return api("backend")


@pytest.fixture
def parties(backend: Api) -> tuple[int, int]:
    return create_parties(backend)


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
