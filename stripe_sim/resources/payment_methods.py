"""PaymentMethods: Stripe's test ids, create, attach/detach, list by customer.

Using a test id such as `pm_card_visa` (in a PaymentIntent or an attach) creates a new
concrete PaymentMethod with its own `pm_` id, as Stripe does.
"""

from __future__ import annotations

import hashlib

from .. import ids
from ..collection import Obj
from ..errors import InvalidRequest, ResourceMissing
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from ..testcards import BANK_NUMBERS, MAGIC_METHODS, NUMBERS, MagicMethod

_EMPTY_ADDRESS = {k: None for k in ("city", "country", "line1", "line2", "postal_code", "state")}


def _billing(value: object) -> Obj:
    src = value if isinstance(value, dict) else {}
    address = dict(_EMPTY_ADDRESS)
    if isinstance(src.get("address"), dict):
        address.update({k: v for k, v in src["address"].items() if k in address})
    return {
        "address": address,
        "email": src.get("email"),
        "name": src.get("name"),
        "phone": src.get("phone"),
        "tax_id": None,
    }


def _card(m: MagicMethod, name: str) -> Obj:
    return {
        "brand": m.brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": m.country,
        "display_brand": m.brand,
        "exp_month": 12,
        "exp_year": 2034,
        "fingerprint": hashlib.sha1(name.encode()).hexdigest()[:16],
        "funding": m.funding,
        "generated_from": None,
        "last4": m.last4,
        "networks": {"available": [m.brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def _bank(name: str) -> Obj:
    return {
        "account_holder_type": "individual",
        "account_type": "checking",
        "bank_name": "STRIPE TEST BANK",
        "financial_connections_account": None,
        "fingerprint": hashlib.sha1(name.encode()).hexdigest()[:16],
        "last4": MAGIC_METHODS[name].last4 if name in MAGIC_METHODS else "6789",
        "networks": {"preferred": "ach", "supported": ["ach"]},
        "routing_number": "110000000",
        "status_details": {},
    }


def materialize(ctx: Ctx, magic: str, billing: object = None, metadata: Obj | None = None) -> Obj:
    """A new concrete PaymentMethod for a test id."""
    m = MAGIC_METHODS[magic]
    pm: Obj = {
        "id": ids.new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing(billing),
        "created": ctx.store.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": m.type,
    }
    if m.type == "card":
        pm["card"] = _card(m, magic)
    else:
        pm["us_bank_account"] = _bank(magic)
    ctx.store.add(ctx.acct, pm)
    ctx.store.internal(ctx.acct, pm["id"])["magic"] = magic
    return pm


def behaviour(ctx: Ctx, pm: Obj) -> MagicMethod:
    magic = ctx.store.internal(ctx.acct, pm["id"]).get("magic", "pm_card_visa")
    return MAGIC_METHODS[magic]


def resolve(ctx: Ctx, pm_id: str, param: str) -> Obj:
    """The PaymentMethod for an id or test id (a test id makes a new one)."""
    if pm_id in MAGIC_METHODS:
        return materialize(ctx, pm_id)
    pm = ctx.acct.objects.get(pm_id)
    if pm is None or pm["object"] != "payment_method":
        raise ResourceMissing("PaymentMethod", pm_id, param)
    return pm


def type_of(ctx: Ctx, pm_id: str, param: str) -> str:
    """The type of a PaymentMethod or test id, without materializing a test id."""
    if pm_id in MAGIC_METHODS:
        return MAGIC_METHODS[pm_id].type
    pm = ctx.acct.objects.get(pm_id)
    if pm is None or pm["object"] != "payment_method":
        raise ResourceMissing("PaymentMethod", pm_id, param)
    return str(pm["type"])


def check_exists(ctx: Ctx, pm_id: str, param: str) -> None:
    if pm_id not in MAGIC_METHODS:
        pm = ctx.acct.objects.get(pm_id)
        if pm is None or pm["object"] != "payment_method":
            raise ResourceMissing("PaymentMethod", pm_id, param)


def attach_to(ctx: Ctx, pm_id: str, customer_id: str, param: str = "id") -> Obj:
    ctx.store.get(ctx.acct, "customer", customer_id, "customer")
    check_exists(ctx, pm_id, param)
    existing = ctx.acct.objects.get(pm_id)
    if existing is not None and existing["customer"] not in (None, customer_id):
        raise InvalidRequest(
            "The payment method you provided has already been attached to a customer.",
            param=param,
        )
    pm = resolve(ctx, pm_id, param)
    if pm["customer"] != customer_id:
        pm["customer"] = customer_id
        emit(ctx.store, ctx.acct, "payment_method.attached", pm)
    return pm


@route("POST", "/v1/payment_methods")
def create_payment_method(ctx: Ctx, p: Params) -> Obj:
    kind = p.str("type", required=True, choices=("card", "us_bank_account"))
    card = p.dict("card") or {}
    billing = p.dict("billing_details")
    metadata = p.metadata()
    bank = p.raw("us_bank_account")
    p.done()
    if kind == "us_bank_account":
        number = bank.get("account_number") if isinstance(bank, dict) else None
        magic = BANK_NUMBERS.get(str(number), "pm_usBankAccount")
    else:
        key = str(card.get("token") or card.get("number") or "").replace(" ", "")
        if key not in NUMBERS:
            raise InvalidRequest(
                "Sending credit card numbers directly to the Stripe API is generally unsafe; "
                "use a test token (tok_visa) or a test card number.",
                code="incorrect_number" if key else "parameter_missing",
                param="card[number]",
            )
        magic = NUMBERS[key]
    return materialize(ctx, magic, billing, metadata)


@route("GET", "/v1/payment_methods/{pm_id}")
def retrieve_payment_method(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    p.done()
    if pm_id in MAGIC_METHODS:
        return resolve(ctx, pm_id, "id")
    return ctx.store.get(ctx.acct, "payment_method", pm_id)


@route("POST", "/v1/payment_methods/{pm_id}")
def update_payment_method(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    pm = ctx.store.get(ctx.acct, "payment_method", pm_id)
    metadata = p.metadata()
    billing = p.dict("billing_details")
    p.done()
    updates: Obj = {}
    if metadata is not None:
        updates["metadata"] = merge_metadata(pm["metadata"], metadata)
    if billing is not None:
        updates["billing_details"] = _billing(billing)
    previous = changed(pm, updates)
    if previous:
        emit(ctx.store, ctx.acct, "payment_method.updated", pm, previous)
    return pm


@route("POST", "/v1/payment_methods/{pm_id}/attach")
def attach_payment_method(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    customer = p.str("customer", required=True)
    p.done()
    return attach_to(ctx, pm_id, customer, "id")


@route("POST", "/v1/payment_methods/{pm_id}/detach")
def detach_payment_method(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    pm = ctx.store.get(ctx.acct, "payment_method", pm_id)
    p.done()
    if pm["customer"] is None:
        raise InvalidRequest(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible."
        )
    previous = changed(pm, {"customer": None})
    emit(ctx.store, ctx.acct, "payment_method.detached", pm, previous)
    return pm


def _list_for(ctx: Ctx, p: Params, customer: str | None, url: str) -> Obj:
    kind = p.str("type")
    if customer:
        ctx.store.get(ctx.acct, "customer", customer, "customer")

    def where(pm: Obj) -> bool:
        if customer and pm["customer"] != customer:
            return False
        return not kind or pm["type"] == kind

    return list_page(ctx, p, "payment_method", url, where)


@route("GET", "/v1/payment_methods")
def list_payment_methods(ctx: Ctx, p: Params) -> Obj:
    customer = p.str("customer")
    return _list_for(ctx, p, customer, "/v1/payment_methods")


@route("GET", "/v1/customers/{cid}/payment_methods")
def list_customer_payment_methods(ctx: Ctx, p: Params, cid: str) -> Obj:
    return _list_for(ctx, p, cid, f"/v1/customers/{cid}/payment_methods")
