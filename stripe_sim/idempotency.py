"""Stripe's idempotency: the first response to a key is replayed for every retry.

Source: https://docs.stripe.com/api/idempotent_requests and
https://docs.stripe.com/error-low-level#idempotency . Keys are scoped to (API key, account) and
are at most 255 characters (longer: 400). A replay is only valid for the same endpoint and the
same parameters; otherwise Stripe answers 400 `idempotency_error`. The status code and body of
the first request are saved "regardless of whether it succeeds or fails ... including 500
errors": a request that executed and then failed with a 500 is replayed as that 500
(`Stripe-Should-Retry: false`), so retrying never reveals the object. A request that failed
validation, or that overlapped another request with the same key (409
`idempotency_key_in_use`), is not saved. Keys are forgotten after 24 hours.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from .errors import IdempotencyError, InvalidRequest

MAX_KEY_LENGTH = 255


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


def check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"Invalid Idempotency-Key: keys can be at most {MAX_KEY_LENGTH} characters long "
            f"(got {len(key)}).", param="idempotency_key",
        )


class KeyInUse(IdempotencyError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "There is currently another in-progress request using this Stripe-Account/"
            "Idempotency-Key combination. Please try again later.",
            code="idempotency_key_in_use",
        )


class IdempotencyCache:
    def __init__(self, ttl_s: int) -> None:
        self.ttl_s = ttl_s
        self._saved: dict[tuple[str, str, str], Saved] = {}
        self._in_flight: set[tuple[str, str, str]] = set()
        self._flight_lock = threading.Lock()

    def clear(self) -> None:
        self._saved.clear()

    def begin(self, raw_scope: tuple[str, str, str]) -> None:
        """Mark a request with this (credentials, account, key) as executing; KeyInUse when
        another one is (it is not saved, so the client may retry the key later)."""
        with self._flight_lock:
            if raw_scope in self._in_flight:
                raise KeyInUse()
            self._in_flight.add(raw_scope)

    def end(self, raw_scope: tuple[str, str, str]) -> None:
        with self._flight_lock:
            self._in_flight.discard(raw_scope)

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
