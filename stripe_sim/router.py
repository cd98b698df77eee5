"""Route table of the Stripe API, and the context a handler receives."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .collection import Obj
from .errors import InvalidRequest, UnknownUrl
from .events import changed, emit
from .params import Params, merge_metadata
from .store import AccountState, Store


@dataclass
class Ctx:
    store: Store
    acct: AccountState
    base_url: str
    request_id: str
    idempotency_key: str | None

    @property
    def platform(self) -> AccountState:
        return self.store.platform


Handler = Callable[..., Any]
_STATIC: dict[tuple[str, str], Handler] = {}
_DYNAMIC: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register `handler(ctx, params, **path_args)` for METHOD /v1/... (`{name}` segments)."""

    def register(handler: Handler) -> Handler:
        if "{" not in pattern:
            _STATIC[(method, pattern)] = handler
        else:
            regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
            _DYNAMIC.append((method, re.compile(f"^{regex}$"), handler))
        return handler

    return register


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    handler = _STATIC.get((method, path))
    if handler is not None:
        return handler, {}
    for m, regex, h in _DYNAMIC:
        if m == method:
            match = regex.match(path)
            if match:
                return h, match.groupdict()
    raise UnknownUrl(method, path)


def update_metadata(ctx: Ctx, p: Params, resource: str, obj_id: str) -> Obj:
    """POST /v1/<resource>s/{id} for resources whose only updatable field is metadata:
    merge it and emit `<resource>.updated` when anything changed."""
    obj = ctx.store.get(ctx.acct, resource, obj_id)
    metadata = p.metadata()
    p.done()
    if metadata is not None:
        previous = changed(obj, {"metadata": merge_metadata(obj["metadata"], metadata)})
        if previous:
            emit(ctx.store, ctx.acct, f"{resource}.updated", obj, previous)
    return obj


def list_page(
    ctx: Ctx,
    p: Params,
    kind: str,
    url: str,
    where: Callable[[Obj], bool] | None = None,
    acct: AccountState | None = None,
) -> Obj:
    """Stripe's list envelope over one collection: limit, created, cursors, newest first."""
    limit = p.int("limit")
    if limit is None:
        limit = 10
    elif not 1 <= limit <= 100:
        raise InvalidRequest(
            "This value must be greater than or equal to 1."
            if limit < 1
            else "This value must be less than or equal to 100.",
            code="parameter_invalid_integer",
            param="limit",
        )
    created = p.range("created")
    starting_after = p.str("starting_after")
    ending_before = p.str("ending_before")
    p.done()
    coll = (acct or ctx.acct).collection(kind)
    data, has_more = coll.page(
        limit=limit,
        created=created,
        starting_after=starting_after,
        ending_before=ending_before,
        where=where,
    )
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


@dataclass
class Raw:
    """A non-JSON response body (file contents, redirects)."""

    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] | None = None
