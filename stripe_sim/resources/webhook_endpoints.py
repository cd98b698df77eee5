"""Webhook endpoints: CRUD. The signing `secret` is returned on creation only, as at Stripe."""

from __future__ import annotations

from typing import Any

from .. import ids
from ..collection import Obj
from ..errors import InvalidRequest
from ..events import API_VERSION
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from ..store import AccountState, Store


def _events(p: Params, required: bool) -> list[str] | None:
    events = p.list("enabled_events")
    if events is None:
        if required:
            raise InvalidRequest("Missing required param: enabled_events.",
                                 code="parameter_missing", param="enabled_events")
        return None
    if not all(isinstance(e, str) and e for e in events):
        raise InvalidRequest("Invalid enabled_events", param="enabled_events")
    return [str(e) for e in events]


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise InvalidRequest("Invalid URL: URL must be http or https.", code="url_invalid",
                             param="url")


def register(store: Store, owner: AccountState, *, url: str, enabled_events: list[str],
             connect: bool = False, both: bool = False, secret: str | None = None,
             description: str | None = None, metadata: Obj | None = None) -> Obj:
    endpoint: Obj = {
        "id": ids.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": API_VERSION,
        "application": None,
        "created": store.now(),
        "description": description,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": metadata or {},
        "status": "enabled",
        "url": url,
    }
    store.add(owner, endpoint)
    info = store.internal(owner, endpoint["id"])
    info.update({"secret": secret or ids.secret("whsec"), "connect": connect, "both": both})
    return endpoint


@route("POST", "/v1/webhook_endpoints")
def create(ctx: Ctx, p: Params) -> Obj:
    url = p.str("url", required=True)
    events = _events(p, required=True) or []
    connect = p.bool("connect", False)
    description = p.str("description")
    metadata = p.metadata()
    p.str("api_version")
    p.done()
    _check_url(url)
    endpoint = register(ctx.store, ctx.acct, url=url, enabled_events=events, connect=connect,
                        description=description, metadata=metadata)
    out = dict(endpoint)
    out["secret"] = ctx.store.internal(ctx.acct, endpoint["id"])["secret"]
    return out


@route("GET", "/v1/webhook_endpoints/{we_id}")
def retrieve(ctx: Ctx, p: Params, we_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "webhook_endpoint", we_id)


@route("POST", "/v1/webhook_endpoints/{we_id}")
def update(ctx: Ctx, p: Params, we_id: str) -> Obj:
    endpoint = ctx.store.get(ctx.acct, "webhook_endpoint", we_id)
    updates: dict[str, Any] = {}
    if p.has("url"):
        updates["url"] = p.str("url", required=True)
        _check_url(updates["url"])
    events = _events(p, required=False)
    if events is not None:
        updates["enabled_events"] = events
    disabled = p.bool("disabled")
    if disabled is not None:
        updates["status"] = "disabled" if disabled else "enabled"
    if p.has("description"):
        updates["description"] = p.str("description")
    metadata = p.metadata()
    p.done()
    if metadata is not None:
        updates["metadata"] = merge_metadata(endpoint["metadata"], metadata)
    endpoint.update(updates)
    return endpoint


@route("DELETE", "/v1/webhook_endpoints/{we_id}")
def delete(ctx: Ctx, p: Params, we_id: str) -> Obj:
    endpoint = ctx.store.get(ctx.acct, "webhook_endpoint", we_id)
    p.done()
    ctx.store.remove(ctx.acct, endpoint)
    return {"id": we_id, "object": "webhook_endpoint", "deleted": True}


@route("GET", "/v1/webhook_endpoints")
def list_endpoints(ctx: Ctx, p: Params) -> Obj:
    return list_page(ctx, p, "webhook_endpoint", "/v1/webhook_endpoints")
