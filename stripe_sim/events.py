"""Event objects: a snapshot of the object at the moment of the change, as Stripe sends."""

from __future__ import annotations

import json
from typing import Any

from . import ids
from .collection import Obj
from .store import AccountState, Store

API_VERSION = "2026-10-28.endive"


def snapshot(obj: Any) -> Any:
    # A JSON round trip is the fastest deep copy of plain JSON data.
    copied = json.loads(json.dumps(obj))
    return copied


def emit(
    store: Store,
    acct: AccountState,
    event_type: str,
    obj: Obj,
    previous: dict[str, Any] | None = None,
) -> Obj:
    data: Obj = {"object": snapshot(obj)}
    if previous:
        data["previous_attributes"] = previous
    req = store.current_request or {}
    event: Obj = {
        "id": ids.new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": store.now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": req.get("id"), "idempotency_key": req.get("idempotency_key")},
        "type": event_type,
    }
    if not acct.is_platform:
        # Connect events name the connected account they happened on.
        event["account"] = acct.id
    store.add(acct, event)
    store.emit(acct, event)
    return event


def changed(obj: Obj, updates: dict[str, Any]) -> dict[str, Any]:
    """Apply `updates` to `obj`; return the previous values of the keys that changed."""
    previous: dict[str, Any] = {}
    for key, value in updates.items():
        if obj.get(key) != value:
            old = obj.get(key)
            previous[key] = snapshot(old) if isinstance(old, dict | list) else old
            obj[key] = value
    return previous
