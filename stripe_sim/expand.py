"""`expand[]`: replace id strings in a response by the objects they name.

Stored objects are never modified: expansion copies the containers on the path it changes.
"""

from __future__ import annotations

from typing import Any

from .collection import Obj
from .errors import InvalidRequest
from .store import AccountState, Store

MAX_DEPTH = 4


def _lookup(store: Store, acct: AccountState, obj_id: str) -> Obj | None:
    found = acct.objects.get(obj_id)
    if found is None:
        # Accounts live on the platform; a connected account's objects may name them.
        found = store.platform.objects.get(obj_id)
    return found


def _expand(store: Store, acct: AccountState, value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    if isinstance(value, list):
        return [_expand(store, acct, v, parts) for v in value]
    if not isinstance(value, dict):
        return value
    head, rest = parts[0], parts[1:]
    if head not in value:
        return value
    child = value[head]
    if isinstance(child, str):
        found = _lookup(store, acct, child)
        if found is None:
            return value
        child = found
    copy = dict(value)
    copy[head] = _expand(store, acct, child, rest)
    return copy


def apply(store: Store, acct: AccountState, obj: Any, paths: Any) -> Any:
    if not paths:
        return obj
    if isinstance(paths, str):
        paths = [paths]
    if isinstance(paths, dict):
        paths = list(paths.values())
    for path in paths:
        if not isinstance(path, str):
            raise InvalidRequest("Invalid expand parameter", param="expand")
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise InvalidRequest(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. "
                f"Property: {path}",
                param="expand",
            )
        obj = _expand(store, acct, obj, parts)
    return obj
