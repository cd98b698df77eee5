"""Application fees: the platform's cut of a connected account's charge, and fee refunds.

The fee is credited to the platform (`application_fee` balance transaction, available with the
charge's funds); the connected account's side is the `application_fee` part of its charge's or
payment's fee.
"""

from __future__ import annotations

from .. import ids, ledger
from ..collection import Obj
from ..errors import InvalidRequest, ResourceMissing
from ..events import changed, emit
from ..params import Params
from ..router import Ctx, list_page, route
from ..store import Store

APPLICATION_ID = "ca_midway"


def create_fee(
    store: Store,
    *,
    account_id: str,
    amount: int,
    currency: str,
    charge_id: str,
    originating: str | None,
    available_on: int,
) -> Obj:
    platform = store.platform
    fee_id = ids.new_id("fee")
    txn = ledger.create(
        store, platform, amount=amount, currency=currency, type="application_fee",
        source=fee_id, available_on=available_on,
    )
    fee: Obj = {
        "id": fee_id,
        "object": "application_fee",
        "account": account_id,
        "amount": amount,
        "amount_refunded": 0,
        "application": APPLICATION_ID,
        "balance_transaction": txn["id"],
        "charge": charge_id,
        "created": store.now(),
        "currency": currency,
        "fee_source": {"charge": charge_id, "type": "charge"},
        "livemode": False,
        "originating_transaction": originating,
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False,
                    "url": f"/v1/application_fees/{fee_id}/refunds"},
    }
    store.add(platform, fee)
    emit(store, platform, "application_fee.created", fee)
    return fee


def refund_fee(store: Store, fee: Obj, amount: int, metadata: Obj | None = None) -> Obj:
    platform = store.platform
    fr_id = ids.new_id("fr")
    txn = ledger.create(
        store, platform, amount=-amount, currency=fee["currency"],
        type="application_fee_refund", source=fr_id,
    )
    account = store.accounts.get(fee["account"])
    if account is not None:
        ledger.create(
            store, account, amount=amount, currency=fee["currency"],
            type="application_fee_refund", source=fr_id,
        )
    refund: Obj = {
        "id": fr_id, "object": "fee_refund", "amount": amount,
        "balance_transaction": txn["id"], "created": store.now(),
        "currency": fee["currency"], "fee": fee["id"], "metadata": metadata or {},
    }
    store.add(platform, refund)
    previous = changed(fee, {
        "amount_refunded": fee["amount_refunded"] + amount,
        "refunded": fee["amount_refunded"] + amount >= fee["amount"],
    })
    fee["refunds"]["data"].insert(0, refund)
    emit(store, platform, "application_fee.refunded", fee, previous)
    return refund


@route("GET", "/v1/application_fees")
def list_fees(ctx: Ctx, p: Params) -> Obj:
    charge = p.str("charge")

    def where(f: Obj) -> bool:
        return f["charge"] == charge or f["originating_transaction"] == charge

    return list_page(ctx, p, "application_fee", "/v1/application_fees",
                     where if charge else None)


@route("GET", "/v1/application_fees/{fee_id}")
def retrieve_fee(ctx: Ctx, p: Params, fee_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "application_fee", fee_id)


@route("POST", "/v1/application_fees/{fee_id}/refunds")
@route("POST", "/v1/application_fees/{fee_id}/refund")
def create_fee_refund(ctx: Ctx, p: Params, fee_id: str) -> Obj:
    fee = ctx.store.get(ctx.acct, "application_fee", fee_id)
    amount = p.amount()
    metadata = p.metadata()
    p.done()
    remaining = fee["amount"] - fee["amount_refunded"]
    if amount is None:
        amount = remaining
    if remaining <= 0:
        raise InvalidRequest(
            f"Application fee {fee_id} has already been refunded.",
            code="charge_already_refunded",
        )
    if amount > remaining:
        raise InvalidRequest(
            f"Refund amount ({amount}) is greater than the unrefunded fee ({remaining}).",
            code="amount_too_large", param="amount",
        )
    return refund_fee(ctx.store, fee, amount, metadata)


@route("GET", "/v1/application_fees/{fee_id}/refunds")
def list_fee_refunds(ctx: Ctx, p: Params, fee_id: str) -> Obj:
    ctx.store.get(ctx.acct, "application_fee", fee_id)
    return list_page(ctx, p, "fee_refund", f"/v1/application_fees/{fee_id}/refunds",
                     lambda r: r["fee"] == fee_id)


@route("GET", "/v1/application_fees/{fee_id}/refunds/{fr_id}")
def retrieve_fee_refund(ctx: Ctx, p: Params, fee_id: str, fr_id: str) -> Obj:
    p.done()
    refund = ctx.store.get(ctx.acct, "fee_refund", fr_id)
    if refund["fee"] != fee_id:
        raise ResourceMissing("fee_refund", fr_id)
    return refund
