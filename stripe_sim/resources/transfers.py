"""Transfers from the platform to connected accounts, and transfer reversals.

A transfer debits the platform (`transfer` balance transaction) and credits the destination
with a payment (`py_...`, a `payment` balance transaction). Without `source_transaction` it
draws on the platform's available balance; with one, it is funded by that charge and becomes
available when the charge's funds do.
"""

from __future__ import annotations

from typing import Any

from .. import ids, ledger, settlement
from ..collection import Obj
from ..errors import InvalidRequest, PermissionDenied, ResourceMissing
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from ..store import AccountState, Store

INSUFFICIENT = (
    "You have insufficient available funds in your Stripe account. Try adding funds directly "
    "to your available balance by creating Charges using the 4000000000000077 test card. See: "
    "https://stripe.com/docs/testing#available-balance"
)


def _destination_payment(
    store: Store, dest: AccountState, tr: Obj, available_on: int, application_fee: int | None
) -> Obj:
    # A destination that cannot settle in the transfer's currency receives it converted into
    # its default currency (docs.stripe.com/connect/currencies).
    settled = settlement.settle(store, dest, tr["amount"], tr["currency"])
    currency = settled.currency
    details = []
    if application_fee:
        details.append(ledger.fee_detail(
            settlement.again(settled, application_fee, tr["currency"]), currency,
            "application_fee", "Application fee", application="ca_midway",
        ))
    py_id = ids.new_id("py")
    txn = ledger.create(
        store, dest, amount=settled.amount, currency=currency, type="payment", source=py_id,
        fee_details=details, available_on=available_on, exchange_rate=settled.exchange_rate,
    )
    payment: Obj = {
        "id": py_id, "object": "charge", "amount": tr["amount"],
        "amount_captured": tr["amount"], "amount_refunded": 0, "application": "ca_midway",
        "application_fee": None, "application_fee_amount": application_fee,
        "balance_transaction": txn["id"], "billing_details": {
            "address": None, "email": None, "name": None, "phone": None, "tax_id": None},
        "calculated_statement_descriptor": None, "captured": True, "created": store.now(),
        "currency": tr["currency"], "customer": None, "description": None, "disputed": False,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "livemode": False, "metadata": {}, "on_behalf_of": None,
        "outcome": None, "paid": True, "payment_intent": None, "payment_method": None,
        "payment_method_details": {"type": "stripe_account", "stripe_account": {}},
        "receipt_email": None, "receipt_number": None, "receipt_url": None, "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False,
                    "url": f"/v1/charges/{py_id}/refunds"},
        "review": None, "shipping": None, "source": None, "source_transfer": tr["id"],
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "succeeded", "transfer_data": None, "transfer_group": tr["transfer_group"],
    }
    store.add(dest, payment)
    return payment


def create_transfer(
    store: Store,
    platform: AccountState,
    dest: AccountState,
    *,
    amount: int,
    currency: str,
    source_transaction: str | None = None,
    transfer_group: str | None = None,
    available_on: int | None = None,
    application_fee: int | None = None,
    metadata: Obj | None = None,
    description: str | None = None,
) -> Obj:
    tr_id = ids.new_id("tr")
    txn = ledger.create(
        store, platform, amount=-amount, currency=currency, type="transfer", source=tr_id,
        available_on=available_on,
    )
    tr: Obj = {
        "id": tr_id, "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": txn["id"], "created": store.now(), "currency": currency,
        "description": description, "destination": dest.id, "destination_payment": None,
        "livemode": False, "metadata": metadata or {},
        "reversals": {"object": "list", "data": [], "has_more": False,
                      "url": f"/v1/transfers/{tr_id}/reversals"},
        "reversed": False, "source_transaction": source_transaction, "source_type": "card",
        "transfer_group": transfer_group,
    }
    payment = _destination_payment(store, dest, tr, txn["available_on"], application_fee)
    tr["destination_payment"] = payment["id"]
    store.add(platform, tr)
    emit(store, platform, "transfer.created", tr)
    return tr


def destination_of(ctx: Ctx, dest_id: str, param: str) -> AccountState:
    dest = ctx.store.connected(dest_id)
    if dest is None:
        raise ResourceMissing("destination", dest_id, param)
    account = ctx.platform.objects[dest_id]
    if account["capabilities"].get("transfers") != "active":
        raise InvalidRequest(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param=param,
        )
    return dest


@route("POST", "/v1/transfers")
def create(ctx: Ctx, p: Params) -> Obj:
    amount = p.amount(required=True)
    currency = p.currency()
    dest_id = p.str("destination", required=True)
    source_transaction = p.str("source_transaction")
    transfer_group = p.str("transfer_group")
    description = p.str("description")
    metadata = p.metadata() or {}
    p.str("source_type", choices=("bank_account", "card", "fpx"))
    p.done()
    if not ctx.acct.is_platform:
        raise PermissionDenied("Transfers can only be created by the platform account.")
    dest = destination_of(ctx, dest_id, "destination")
    available_on = None
    if source_transaction:
        charge = ctx.store.get(ctx.acct, "charge", source_transaction, "source_transaction")
        if charge["status"] != "succeeded" or not charge["balance_transaction"]:
            raise InvalidRequest(
                "The source_transaction charge has not succeeded.", param="source_transaction"
            )
        # Funded by what the charge put on the balance: its settlement currency and amount
        # (docs.stripe.com/connect/separate-charges-and-transfers, source_transaction).
        charged = ctx.acct.objects[charge["balance_transaction"]]
        if currency != charged["currency"]:
            raise InvalidRequest(
                f"The currency of source_transaction's balance transaction ({charged['currency']})"
                f" must be the same as the transfer currency ({currency}).", param="currency",
            )
        if amount > charged["amount"]:
            raise InvalidRequest(
                "Transfer amount exceeds the amount of the source transaction.",
                code="amount_too_large", param="amount",
            )
        available_on = ctx.acct.objects[charge["balance_transaction"]]["available_on"]
    elif amount > ledger.amount_of(ctx.acct, currency, "available"):
        raise InvalidRequest(INSUFFICIENT, code="balance_insufficient")
    return create_transfer(
        ctx.store, ctx.acct, dest, amount=amount, currency=currency,
        source_transaction=source_transaction, transfer_group=transfer_group,
        available_on=available_on, metadata=metadata, description=description,
    )


@route("GET", "/v1/transfers/{tr_id}")
def retrieve(ctx: Ctx, p: Params, tr_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "transfer", tr_id)


@route("POST", "/v1/transfers/{tr_id}")
def update(ctx: Ctx, p: Params, tr_id: str) -> Obj:
    tr = ctx.store.get(ctx.acct, "transfer", tr_id)
    metadata = p.metadata()
    updates: dict[str, Any] = {}
    if p.has("description"):
        updates["description"] = p.str("description")
    p.done()
    if metadata is not None:
        updates["metadata"] = merge_metadata(tr["metadata"], metadata)
    previous = changed(tr, updates)
    if previous:
        emit(ctx.store, ctx.acct, "transfer.updated", tr, previous)
    return tr


@route("GET", "/v1/transfers")
def list_transfers(ctx: Ctx, p: Params) -> Obj:
    destination = p.str("destination")
    group = p.str("transfer_group")

    def where(tr: Obj) -> bool:
        return (not destination or tr["destination"] == destination) and (
            not group or tr["transfer_group"] == group
        )

    return list_page(ctx, p, "transfer", "/v1/transfers", where if destination or group else None)


def reverse(ctx: Ctx, tr: Obj, amount: int, metadata: Obj, description: str | None) -> Obj:
    store = ctx.store
    dest = store.accounts[tr["destination"]]
    trr_id = ids.new_id("trr")
    txn = ledger.create(
        store, ctx.platform, amount=amount, currency=tr["currency"], type="transfer_refund",
        source=trr_id, description=description,
    )
    pyr_id = ids.new_id("pyr")
    back = settlement.settle(store, dest, amount, tr["currency"])
    ledger.create(
        store, dest, amount=-back.amount, currency=back.currency, type="payment_refund",
        source=pyr_id, exchange_rate=back.exchange_rate,
    )
    payment = dest.objects.get(tr["destination_payment"] or "")
    if payment is not None:
        payment["amount_refunded"] += amount
        payment["refunded"] = payment["amount_refunded"] >= payment["amount"]
    reversal: Obj = {
        "id": trr_id, "object": "transfer_reversal", "amount": amount,
        "balance_transaction": txn["id"], "created": store.now(), "currency": tr["currency"],
        "destination_payment_refund": pyr_id, "metadata": metadata, "source_refund": None,
        "transfer": tr["id"],
    }
    store.add(ctx.platform, reversal)
    previous = changed(tr, {
        "amount_reversed": tr["amount_reversed"] + amount,
        "reversed": tr["amount_reversed"] + amount >= tr["amount"],
    })
    tr["reversals"]["data"].insert(0, reversal)
    emit(store, ctx.platform, "transfer.reversed", tr, previous)
    emit(store, ctx.platform, "transfer.updated", tr, previous)
    return reversal


@route("POST", "/v1/transfers/{tr_id}/reversals")
def create_reversal(ctx: Ctx, p: Params, tr_id: str) -> Obj:
    tr = ctx.store.get(ctx.acct, "transfer", tr_id)
    amount = p.amount()
    metadata = p.metadata() or {}
    description = p.str("description")
    p.bool("refund_application_fee")
    p.done()
    remaining = tr["amount"] - tr["amount_reversed"]
    if remaining <= 0:
        raise InvalidRequest(
            f"Transfer {tr_id} has already been fully reversed."
        )
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise InvalidRequest(
            f"Transfer reversal amount ({amount}) is greater than the amount remaining on the "
            f"transfer ({remaining}).",
            code="amount_too_large", param="amount",
        )
    return reverse(ctx, tr, amount, metadata, description)


@route("GET", "/v1/transfers/{tr_id}/reversals")
def list_reversals(ctx: Ctx, p: Params, tr_id: str) -> Obj:
    ctx.store.get(ctx.acct, "transfer", tr_id)
    return list_page(
        ctx, p, "transfer_reversal", f"/v1/transfers/{tr_id}/reversals",
        lambda r: r["transfer"] == tr_id,
    )


@route("GET", "/v1/transfers/{tr_id}/reversals/{trr_id}")
def retrieve_reversal(ctx: Ctx, p: Params, tr_id: str, trr_id: str) -> Obj:
    p.done()
    reversal = ctx.store.get(ctx.acct, "transfer_reversal", trr_id)
    if reversal["transfer"] != tr_id:
        raise ResourceMissing("transfer_reversal", trr_id)
    return reversal
