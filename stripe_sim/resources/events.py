"""Events: retrieve and list (type, types[], created), per account."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..collection import Obj
from ..params import Params
from ..router import Ctx, list_page, route


@route("GET", "/v1/events/{evt_id}")
def retrieve(ctx: Ctx, p: Params, evt_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "event", evt_id)


@route("GET", "/v1/events")
def list_events(ctx: Ctx, p: Params) -> Obj:
    one = p.str("type")
    many = p.list("types") or []
    patterns = ([one] if one else []) + list(many)
    p.bool("delivery_success")
    where = None
    if patterns:
        def where(e: Obj) -> bool:
            return any(fnmatchcase(e["type"], pat) for pat in patterns)

    return list_page(ctx, p, "event", "/v1/events", where)
