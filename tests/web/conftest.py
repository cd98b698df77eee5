"""Fixtures for the web API: clients with each role's key (the app and the keys themselves come
from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from web_helpers import Api, create_parties


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
