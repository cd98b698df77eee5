"""PaymentIntents: create, update, retrieve, list (confirm/capture/cancel: payment_actions)."""

from __future__ import annotations

from typing import Any

from .. import currencies, ids
from ..collection import Obj
from ..errors import InvalidRequest
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from . import payment_methods, transfers
from .payment_actions import (
    CAPTURE_METHODS,
    CONFIRM_EXTRAS,
    check_confirmable,
    check_fee,
    confirm_intent,
    unexpected_state,
)


def _check_amount(amount: int, currency: str) -> None:
    if amount < currencies.minimum_charge(currency):
        raise InvalidRequest(
            f"Amount must be at least {currencies.format_minimum(currency)}",
            code="amount_too_small", param="amount",
        )
    if amount > 99_999_999:
        raise InvalidRequest(
            "Amount must be no more than 99999999", code="amount_too_large", param="amount"
        )


def _read_common(p: Params, fields: dict[str, Any]) -> None:
    for name in ("description", "receipt_email", "statement_descriptor",
                 "statement_descriptor_suffix", "transfer_group", "setup_future_usage",
                 "on_behalf_of"):
        if p.has(name):
            fields[name] = p.str(name)
    if p.has("shipping"):
        fields["shipping"] = p.dict("shipping")
    if p.has("payment_method_types"):
        fields["payment_method_types"] = p.list("payment_method_types")
    if p.has("application_fee_amount"):
        fields["application_fee_amount"] = p.int("application_fee_amount", minimum=0)
    if p.has("capture_method"):
        fields["capture_method"] = p.str("capture_method", choices=CAPTURE_METHODS)


def _automatic_methods(auto: dict[str, Any] | None) -> dict[str, Any]:
    """Automatic payment methods are the default without `payment_method_types`, and they may
    redirect unless told `allow_redirects=never`. Source:
    https://docs.stripe.com/api/payment_intents/create (automatic_payment_methods)."""
    auto = auto or {}
    allow = auto.get("allow_redirects") or "always"
    if allow not in ("always", "never"):
        raise InvalidRequest(
            "Invalid automatic_payment_methods[allow_redirects]: must be one of always, never",
            param="automatic_payment_methods[allow_redirects]",
        )
    enabled = str(auto.get("enabled", "true")).lower() not in ("false", "0")
    return {"allow_redirects": allow, "enabled": enabled}


@route("POST", "/v1/payment_intents")
def create(ctx: Ctx, p: Params) -> Obj:
    amount = p.amount(required=True)
    currency = p.currency()
    fields: dict[str, Any] = {}
    _read_common(p, fields)
    customer = p.str("customer")
    pm_id = p.str("payment_method")
    metadata = p.metadata() or {}
    confirm = p.bool("confirm", False)
    transfer_data = p.dict("transfer_data")
    auto = p.dict("automatic_payment_methods")
    confirmation_method = p.str("confirmation_method", choices=("automatic", "manual"))
    return_url = p.str("return_url")
    for name in CONFIRM_EXTRAS + ("payment_method_configuration", "excluded_payment_method_types"):
        p.raw(name)
    p.done()
    _check_amount(amount, currency)
    destination = None
    if transfer_data is not None:
        destination = transfer_data.get("destination")
        if not destination:
            raise InvalidRequest(
                "Missing required param: transfer_data[destination].",
                code="parameter_missing", param="transfer_data[destination]",
            )
        transfers.destination_of(ctx, destination, "transfer_data[destination]")
        if transfer_data.get("amount") is not None:
            sub = Params({"amount": transfer_data["amount"]})
            transfer_data = {"destination": destination, "amount": sub.amount()}
            if fields.get("application_fee_amount") is not None:
                raise InvalidRequest(
                    "You cannot specify both application_fee_amount and transfer_data[amount].",
                    param="application_fee_amount",
                )
        else:
            transfer_data = {"destination": destination}
    check_fee(ctx, fields.get("application_fee_amount"), amount, destination)
    if customer:
        ctx.store.get(ctx.acct, "customer", customer, "customer")
    if pm_id:
        payment_methods.check_exists(ctx, pm_id, "payment_method")
    pi_id = ids.new_id("pi")
    types = fields.pop("payment_method_types", None)
    pi: Obj = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None if types else _automatic_methods(auto),
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{pi_id}_secret_{ids.new_id('s', 24)[2:]}",
        "confirmation_method": confirmation_method or "automatic",
        "created": ctx.store.now(),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": types or ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": transfer_data,
        "transfer_group": None,
    }
    pi.update(fields)
    if confirm:
        # a 400 must not leave a PaymentIntent behind
        check_confirmable(ctx, pi, pm_id, return_url)
    if pm_id:
        pi["payment_method"] = payment_methods.resolve(ctx, pm_id, "payment_method")["id"]
        pi["status"] = "requires_confirmation"
    ctx.store.add(ctx.acct, pi)
    emit(ctx.store, ctx.acct, "payment_intent.created", pi)
    if confirm:
        confirm_intent(ctx, pi, return_url)
    return pi


@route("GET", "/v1/payment_intents/{pi_id}")
def retrieve(ctx: Ctx, p: Params, pi_id: str) -> Obj:
    p.str("client_secret")
    p.done()
    return ctx.store.get(ctx.acct, "payment_intent", pi_id)


@route("POST", "/v1/payment_intents/{pi_id}")
def update(ctx: Ctx, p: Params, pi_id: str) -> Obj:
    pi = ctx.store.get(ctx.acct, "payment_intent", pi_id)
    fields: dict[str, Any] = {}
    _read_common(p, fields)
    if p.has("amount"):
        fields["amount"] = p.amount()
    if p.has("currency"):
        fields["currency"] = p.currency()
    if p.has("customer"):
        fields["customer"] = p.str("customer")
    pm_id = p.str("payment_method")
    metadata = p.metadata()
    p.raw("payment_method_options")
    p.done()
    if pi["status"] in ("succeeded", "canceled", "processing"):
        raise unexpected_state(
            f"You cannot update this PaymentIntent because it has a status of {pi['status']}."
        )
    if "amount" in fields or "currency" in fields:
        _check_amount(fields.get("amount") or pi["amount"],
                      fields.get("currency") or pi["currency"])
    if fields.get("customer"):
        ctx.store.get(ctx.acct, "customer", fields["customer"], "customer")
    if pm_id:
        payment_methods.check_exists(ctx, pm_id, "payment_method")
        fields["payment_method"] = payment_methods.resolve(ctx, pm_id, "payment_method")["id"]
        if pi["status"] == "requires_payment_method":
            fields["status"] = "requires_confirmation"
    if metadata is not None:
        fields["metadata"] = merge_metadata(pi["metadata"], metadata)
    previous = changed(pi, fields)
    if previous:
        emit(ctx.store, ctx.acct, "payment_intent.updated", pi, previous)
    return pi


@route("GET", "/v1/payment_intents")
def list_intents(ctx: Ctx, p: Params) -> Obj:
    customer = p.str("customer")
    where = (lambda pi: pi["customer"] == customer) if customer else None
    return list_page(ctx, p, "payment_intent", "/v1/payment_intents", where)
