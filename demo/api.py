"""The demo's backend service: it calls the real HTTP API (through Flask's test client) with a
backend key, as the marketplace's own services would."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient


class DemoError(RuntimeError):
    """The system answered something the demo did not expect; the demo stops and says what."""


class BackendApi:
    def __init__(self, new_client: Callable[[], FlaskClient], key: str) -> None:
        self._new_client = new_client
        self._local = threading.local()
        self._headers = {"Authorization": f"Bearer {key}"}
        self._keys = itertools.count(1)

    @property
    def _client(self) -> FlaskClient:
        """One test client per thread: backend services post concurrently."""
        client: FlaskClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
        return client

    def post(
        self, path: str, body: dict[str, Any], *, expect: tuple[int, ...] = (200, 201, 202)
    ) -> Any:
        headers = {**self._headers, "Idempotency-Key": f"demo-{next(self._keys)}"}
        response = self._client.post(path, json=body, headers=headers)
        if response.status_code not in expect:
            raise DemoError(
                f"POST {path} answered {response.status_code}: {response.get_data(as_text=True)}"
            )
        return response.get_json()

    def get(self, path: str) -> Any:
        response = self._client.get(path, headers=self._headers)
        if response.status_code != 200:
            raise DemoError(
                f"GET {path} answered {response.status_code}: {response.get_data(as_text=True)}"
            )
        return response.get_json()
