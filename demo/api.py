"""The demo's backend service: it calls the real HTTP API of the web process with a backend
key, as the marketplace's own services would."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import requests


class DemoError(RuntimeError):
    """The system answered something the demo did not expect; the demo stops and says what."""


class BackendApi:
    def __init__(self, base_url: str, key: str) -> None:
        self._base_url = base_url
        self._local = threading.local()
        self._headers = {"Authorization": f"Bearer {key}"}
        self._keys = itertools.count(1)

    @property
    def _http(self) -> requests.Session:
        """One keep-alive connection per thread: backend services post concurrently."""
        http: requests.Session | None = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
            http.trust_env = False  # loopback: no proxy look-ups per request
        return http

    def post(
        self, path: str, body: dict[str, Any], *, expect: tuple[int, ...] = (200, 201, 202)
    ) -> Any:
        headers = {**self._headers, "Idempotency-Key": f"demo-{next(self._keys)}"}
        response = self._http.post(self._base_url + path, json=body, headers=headers, timeout=60)
        if response.status_code not in expect:
            raise DemoError(f"POST {path} answered {response.status_code}: {response.text}")
        return response.json()

    def get(self, path: str) -> Any:
        response = self._http.get(self._base_url + path, headers=self._headers, timeout=60)
        if response.status_code != 200:
            raise DemoError(f"GET {path} answered {response.status_code}: {response.text}")
        return response.json()
