"""Customers: create, retrieve, update, delete, list."""

from __future__ import annotations

import random
import string

from .. import ids
from ..collection import Obj
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route

_ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def _address(value: object) -> Obj | None:
    if not isinstance(value, dict):
        return None
    return {k: value.get(k) for k in _ADDRESS_KEYS}


def _read_fields(p: Params) -> dict[str, object]:
    fields: dict[str, object] = {}
    for name in ("email", "name", "description", "phone"):
        if p.has(name):
            fields[name] = p.str(name)
    if p.has("address"):
        fields["address"] = _address(p.dict("address"))
    if p.has("shipping"):
        fields["shipping"] = p.dict("shipping")
    if p.has("preferred_locales"):
        fields["preferred_locales"] = p.list("preferred_locales") or []
    if p.has("invoice_settings"):
        settings = p.dict("invoice_settings") or {}
        fields["_default_pm"] = settings.get("default_payment_method")
    if p.has("payment_method"):
        fields["_attach_pm"] = p.str("payment_method")
    return fields


@route("POST", "/v1/customers")
def create_customer(ctx: Ctx, p: Params) -> Obj:
    fields = _read_fields(p)
    metadata = p.metadata() or {}
    p.done()
    cus: Obj = {
        "id": ids.new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": ctx.store.now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": "".join(random.choices(string.ascii_uppercase + string.digits, k=8)),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    attach = fields.pop("_attach_pm", None)
    default_pm = fields.pop("_default_pm", None)
    cus.update(fields)
    ctx.store.add(ctx.acct, cus)
    if attach:
        from .payment_methods import attach_to

        pm = attach_to(ctx, str(attach), cus["id"], "payment_method")
        if default_pm == attach:
            default_pm = pm["id"]
    if default_pm:
        cus["invoice_settings"]["default_payment_method"] = default_pm
    emit(ctx.store, ctx.acct, "customer.created", cus)
    return cus


@route("GET", "/v1/customers/{cid}")
def retrieve_customer(ctx: Ctx, p: Params, cid: str) -> Obj:
    p.done()
    deleted = ctx.store.internal(ctx.acct, cid).get("deleted")
    if deleted:
        return {"id": cid, "object": "customer", "deleted": True}
    return ctx.store.get(ctx.acct, "customer", cid)


@route("POST", "/v1/customers/{cid}")
def update_customer(ctx: Ctx, p: Params, cid: str) -> Obj:
    cus = ctx.store.get(ctx.acct, "customer", cid)
    fields = _read_fields(p)
    metadata = p.metadata()
    p.done()
    fields.pop("_attach_pm", None)
    default_pm = fields.pop("_default_pm", None)
    if metadata is not None:
        fields["metadata"] = merge_metadata(cus["metadata"], metadata)
    previous = changed(cus, fields)
    if default_pm is not None:
        settings = dict(cus["invoice_settings"])
        settings["default_payment_method"] = default_pm or None
        previous.update(changed(cus, {"invoice_settings": settings}))
    if previous:
        emit(ctx.store, ctx.acct, "customer.updated", cus, previous)
    return cus


@route("DELETE", "/v1/customers/{cid}")
def delete_customer(ctx: Ctx, p: Params, cid: str) -> Obj:
    cus = ctx.store.get(ctx.acct, "customer", cid)
    p.done()
    ctx.store.remove(ctx.acct, cus)
    ctx.store.internal(ctx.acct, cid)["deleted"] = True
    emit(ctx.store, ctx.acct, "customer.deleted", cus)
    return {"id": cid, "object": "customer", "deleted": True}


@route("GET", "/v1/customers")
def list_customers(ctx: Ctx, p: Params) -> Obj:
    email = p.str("email")
    where = (lambda c: c["email"] == email) if email else None
    return list_page(ctx, p, "customer", "/v1/customers", where)
