"""Who is calling: `Authorization: Bearer <key>`, a role, and what each role may do.

- backend: enqueue payment work and read its status (the only role that sees client_secret);
- finance: read payment, refund, payout and reconciliation data; resolve discrepancies;
- admin: everything, including managing keys.
A wrong or missing key is 401; a valid key without the permission is 403, decided before any
lookup, so neither tells whether a resource exists.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from models.db import transaction
from web.context import state
from web.errors import Forbidden, Unauthenticated
from web.keys import KeyInfo, find_active, hash_secret, touch
from web.ratelimit import check_rate

ENQUEUE = "enqueue"
READ = "read"
RESOLVE = "resolve"
MANAGE_KEYS = "manage_keys"

PERMISSIONS: dict[str, frozenset[str]] = {
    "backend": frozenset({ENQUEUE, READ}),
    "finance": frozenset({READ, RESOLVE}),
    "admin": frozenset({ENQUEUE, READ, RESOLVE, MANAGE_KEYS}),
}
# What each permission lets a key do, in the words of the 403 that refuses it.
PERMISSION_WORDS = {
    ENQUEUE: "creating customers, carriers, payments, refunds and payouts",
    READ: "reading",
    RESOLVE: "working reconciliation runs and discrepancies",
    MANAGE_KEYS: "managing API keys",
}
TOUCH_EVERY_S = 60.0

F = TypeVar("F", bound=Callable[..., Any])


class KeyCache:
    """Recently verified keys by secret hash, for a few seconds (revocation takes effect
    within the TTL), and when each key's last_used_at was last written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[KeyInfo, float]] = {}
        self._touched: dict[int, float] = {}

    def get(self, digest: str, now: float) -> KeyInfo | None:
        with self._lock:
            hit = self._keys.get(digest)
            if hit is None or hit[1] <= now:
                return None
            return hit[0]

    def put(self, digest: str, key: KeyInfo, expires: float) -> None:
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = (key, expires)

    def due_for_touch(self, key_id: int, now: float) -> bool:
        with self._lock:
            if now - self._touched.get(key_id, 0.0) < TOUCH_EVERY_S:
                return False
            self._touched[key_id] = now
            return True


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "send an API key as `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": 'Bearer realm="midway"'},
        )
    return token.strip()


def authenticate() -> KeyInfo:
    token = _bearer_token()
    app_state = state()
    cache: KeyCache = app_state.extras.setdefault("key_cache", KeyCache())
    digest = hash_secret(token)
    now = time.monotonic()
    key = cache.get(digest, now) if app_state.key_cache_ttl_s > 0 else None
    if key is None:
        with transaction(app_state.sessions) as session:
            key = find_active(session, token)
        if key is None:
            raise Unauthenticated(
                "the API key is not valid (unknown or revoked)",
                headers={"WWW-Authenticate": 'Bearer realm="midway", error="invalid_token"'},
            )
        if app_state.key_cache_ttl_s > 0:
            cache.put(digest, key, now + app_state.key_cache_ttl_s)
    if cache.due_for_touch(key.id, now):
        with transaction(app_state.sessions) as session:
            touch(session, key.id)
    return key


def refusal(role: str, permission: str) -> str:
    """Why a key is refused, and which roles' keys would do."""
    roles = [name for name, granted in PERMISSIONS.items() if permission in granted]
    return (
        f"a {role} key may not do this: {PERMISSION_WORDS.get(permission, permission)} needs"
        f" a {' or '.join(roles)} key"
    )


def requires(permission: str) -> Callable[[F], F]:
    """The view needs a key whose role grants `permission`; rate-limited per key."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = authenticate()
            g.api_key = key
            if permission not in PERMISSIONS.get(key.role, frozenset()):
                raise Forbidden(refusal(key.role, permission))
            check_rate(key)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def current_key() -> KeyInfo:
    return g.api_key
