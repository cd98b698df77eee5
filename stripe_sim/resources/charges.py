"""Charges: the charge object, what capturing it does to balances, retrieve/list/update.

Charges are created by PaymentIntents (payment_intents.py). Capturing one creates its
balance transaction (gross, Stripe fee, net), the application fee if any, and for destination
charges the transfer to the connected account.
"""

from __future__ import annotations

from typing import Any

from .. import ids, ledger, settlement
from ..collection import Obj
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from ..testcards import MagicMethod
from . import application_fees, transfers


def _card_details(pm: Obj, amount: int) -> Obj:
    card = pm["card"]
    return {
        "amount_authorized": amount,
        "authorization_code": None,
        "brand": card["brand"],
        "checks": dict(card["checks"]),
        "country": card["country"],
        "exp_month": card["exp_month"],
        "exp_year": card["exp_year"],
        "extended_authorization": {"status": "disabled"},
        "fingerprint": card["fingerprint"],
        "funding": card["funding"],
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": card["last4"],
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": card["brand"],
        "network_token": {"used": False},
        "network_transaction_id": ids.new_id("", 15).lstrip("_"),
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": card["regulated_status"],
        "three_d_secure": None,
        "transaction_link_id": None,
        "wallet": None,
    }


def _bank_details(pm: Obj) -> Obj:
    bank = pm["us_bank_account"]
    return {
        "account_holder_type": bank["account_holder_type"],
        "account_type": bank["account_type"],
        "bank_name": bank["bank_name"],
        "fingerprint": bank["fingerprint"],
        "last4": bank["last4"],
        "mandate": None,
        "payment_reference": None,
        "routing_number": bank["routing_number"],
    }


def new_charge(ctx: Ctx, pi: Obj, pm: Obj) -> Obj:
    """A charge for a PaymentIntent confirmation, before its outcome is known."""
    amount = pi["amount"]
    details: Obj = {"type": pm["type"]}
    details[pm["type"]] = _card_details(pm, amount) if pm["type"] == "card" else _bank_details(pm)
    destination = (pi.get("transfer_data") or {}).get("destination")
    charge: Obj = {
        # Bank debits are "payments" (py_…), cards charges (ch_…): docs.stripe.com/reports/
        # balance-transaction-types (`charge` vs `payment`).
        "id": ids.new_id("py" if pm["type"] == "us_bank_account" else "ch"),
        "object": "charge",
        "amount": amount,
        "amount_captured": 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": pi["application_fee_amount"],
        "balance_transaction": None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "MIDWAY FREIGHT",
        "captured": False,
        "created": ctx.store.now(),
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "on_behalf_of": pi["on_behalf_of"],
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": False,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": details,
        "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "url": ""},
        "review": None,
        "shipping": pi["shipping"],
        "source": None,
        "source_transfer": None,
        "statement_descriptor": pi["statement_descriptor"],
        "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
        "status": "pending",
        "transfer": None,
        "transfer_data": (
            {"amount": pi["transfer_data"].get("amount"), "destination": destination}
            if destination
            else None
        ),
        "transfer_group": pi["transfer_group"],
    }
    charge["refunds"]["url"] = f"/v1/charges/{charge['id']}/refunds"
    charge["receipt_url"] = f"{ctx.base_url}/receipts/payment/{charge['id']}"
    ctx.store.add(ctx.acct, charge)
    info = ctx.store.internal(ctx.acct, charge["id"])
    info["refunded_real"] = 0
    info["destination"] = destination
    return charge


def fail(charge: Obj, m: MagicMethod, message: str) -> None:
    charge.update({
        "status": "failed",
        "paid": False,
        "failure_code": m.error_code,
        "failure_message": message,
    })
    if m.blocked:
        charge["outcome"] = {
            "advice_code": "do_not_try_again",
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "not_sent_to_network",
            "reason": "highest_risk_level",
            "risk_level": "highest",
            "risk_score": 95,
            "seller_message": "Stripe blocked this payment as too risky.",
            "type": "blocked",
        }
        return
    charge["outcome"] = {
        "advice_code": "try_again_later" if m.decline_code == "processing_error" else None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": m.decline_code,
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def capture_funds(
    ctx: Ctx, charge: Obj, amount: int, bypass_pending: bool, authorized: int | None = None
) -> Obj:
    """Book a captured amount: balance transaction, application fee, destination transfer.

    A capture below the authorization (`authorized`) books the whole authorization as the
    charge and a `partial_capture_reversal` for the uncaptured rest; the fee is on what was
    captured. Source: https://docs.stripe.com/reports/reporting-categories ("A separate
    category for partial-capture reversals")."""
    store = ctx.store
    acct = ctx.acct
    method_type = charge["payment_method_details"]["type"]
    now = store.now()
    available_on = now if bypass_pending else ledger.charge_available_on(store, now)
    # Presented in a currency the account does not settle in: converted at today's rate, card
    # fee on the converted amount, plus the conversion fee (settlement.py, fees.py).
    settled = settlement.settle(store, acct, amount, charge["currency"])
    currency = settled.currency
    stripe_fee = store.config.fees.charge_fee(settled.amount, currency, method_type)
    details = [ledger.fee_detail(stripe_fee, currency, "stripe_fee", "Stripe processing fees")]
    if settled.rate is not None:
        details.append(ledger.fee_detail(
            store.config.fees.conversion_fee(settled.amount), currency, "stripe_fee",
            "Currency conversion fee"))
    app_fee = charge["application_fee_amount"]
    destination = store.internal(acct, charge["id"]).get("destination")
    direct_fee = bool(app_fee) and not acct.is_platform
    if direct_fee:
        # Direct charge on a connected account: the platform's fee comes out of this charge.
        details.append(ledger.fee_detail(
            settlement.again(settled, app_fee, charge["currency"]), currency,
            "application_fee", "Application fee", application="ca_midway",
        ))
    gross = authorized if authorized is not None and authorized > amount else amount
    settled_gross = settlement.again(settled, gross, charge["currency"])
    txn = ledger.create(
        store, acct, amount=settled_gross, currency=currency, type="charge",
        source=charge["id"], fee_details=details, description=charge["description"],
        available_on=available_on, exchange_rate=settled.exchange_rate,
    )
    if gross > amount:
        ledger.create(
            store, acct, amount=settled.amount - settled_gross, currency=currency,
            type="partial_capture_reversal", source=charge["id"],
            description="Partial capture reversal", available_on=available_on,
            exchange_rate=settled.exchange_rate,
        )
    charge.update({
        "amount_captured": amount,
        "balance_transaction": txn["id"],
        "captured": True,
        "paid": True,
        "status": "succeeded",
    })
    if direct_fee:
        fee = application_fees.create_fee(
            store, account_id=acct.id, amount=settlement.again(settled, app_fee,
                                                               charge["currency"]),
            currency=currency,
            charge_id=charge["id"], originating=None, available_on=available_on,
        )
        charge["application_fee"] = fee["id"]
    elif destination:
        _pay_destination(ctx, charge, amount, app_fee, available_on, settled)
    return txn


def _pay_destination(
    ctx: Ctx, charge: Obj, amount: int, app_fee: int | None, available_on: int,
    settled: settlement.Settled,
) -> None:
    """The destination's transfer, in the platform's settlement currency at the charge's rate
    (docs.stripe.com/connect/currencies: destination charges settle on the platform first)."""
    dest = ctx.store.connected(ctx.store.internal(ctx.acct, charge["id"])["destination"])
    if dest is None:
        return
    transfer_amount = (charge["transfer_data"] or {}).get("amount") or amount
    if app_fee:
        app_fee = settlement.again(settled, app_fee, charge["currency"])
    tr = transfers.create_transfer(
        ctx.store, ctx.platform, dest,
        amount=settlement.again(settled, transfer_amount, charge["currency"]),
        currency=settled.currency,
        source_transaction=charge["id"], transfer_group=charge["transfer_group"],
        available_on=available_on, application_fee=app_fee,
    )
    charge["transfer"] = tr["id"]
    if app_fee:
        fee = application_fees.create_fee(
            ctx.store, account_id=dest.id, amount=app_fee, currency=settled.currency,
            charge_id=tr["destination_payment"], originating=charge["id"],
            available_on=available_on,
        )
        charge["application_fee"] = fee["id"]


def refundable(ctx: Ctx, charge: Obj) -> int:
    real = ctx.store.internal(ctx.acct, charge["id"]).get("refunded_real", 0)
    return int(charge["amount_captured"]) - int(real)


@route("GET", "/v1/charges/{ch_id}")
def retrieve_charge(ctx: Ctx, p: Params, ch_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "charge", ch_id)


@route("POST", "/v1/charges/{ch_id}")
def update_charge(ctx: Ctx, p: Params, ch_id: str) -> Obj:
    charge = ctx.store.get(ctx.acct, "charge", ch_id)
    updates: dict[str, Any] = {}
    metadata = p.metadata()
    for name in ("description", "receipt_email"):
        if p.has(name):
            updates[name] = p.str(name)
    p.raw("fraud_details")
    p.raw("shipping")
    p.done()
    if metadata is not None:
        updates["metadata"] = merge_metadata(charge["metadata"], metadata)
    previous = changed(charge, updates)
    if previous:
        emit(ctx.store, ctx.acct, "charge.updated", charge, previous)
    return charge


@route("GET", "/v1/charges")
def list_charges(ctx: Ctx, p: Params) -> Obj:
    customer = p.str("customer")
    payment_intent = p.str("payment_intent")
    transfer_group = p.str("transfer_group")

    def where(ch: Obj) -> bool:
        return (
            (not customer or ch["customer"] == customer)
            and (not payment_intent or ch["payment_intent"] == payment_intent)
            and (not transfer_group or ch["transfer_group"] == transfer_group)
        )

    filtered = customer or payment_intent or transfer_group
    return list_page(ctx, p, "charge", "/v1/charges", where if filtered else None)
