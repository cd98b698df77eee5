"""Stripe's idempotency: the first response to a key is replayed for every retry.

Keys are scoped to (API key, account). A replay is only valid for the same endpoint and the
same parameters; otherwise Stripe answers 400 `idempotency_error`. As at Stripe, a request
that failed validation is not saved (the client may fix it and retry with the same key), but
anything that executed, a card decline included, is. Keys expire after a day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import IdempotencyError


@dataclass
class Saved:
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]
    created: int


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    return method + " " + path + " " + json.dumps(params, sort_keys=True)


def should_save(status: int) -> bool:
    return status < 400 or status == 402


class IdempotencyCache:
    def __init__(self, ttl_s: int) -> None:
        self.ttl_s = ttl_s
        self._saved: dict[tuple[str, str, str], Saved] = {}

    def clear(self) -> None:
        self._saved.clear()

    def lookup(self, scope: tuple[str, str, str], fp: str, now: int) -> Saved | None:
        saved = self._saved.get(scope)
        if saved is None:
            return None
        if now - saved.created > self.ttl_s:
            del self._saved[scope]
            return None
        if saved.fingerprint != fp:
            raise IdempotencyError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{scope[2]}' if you meant "
                "to execute a different request.",
            )
        return saved

    def save(self, scope: tuple[str, str, str], saved: Saved) -> None:
        self._saved[scope] = saved
