"""Payouts to the bank, on the platform or on a connected account.

A payout debits the available balance at creation (`payout` balance transaction), goes
pending -> in_transit -> paid as the simulated clock passes its arrival date, or fails
(then a `payout_failure` balance transaction returns the money). Failures are requested with
POST /_sim/payouts/{id}/fail or /_sim/accounts/{id}/payout_failure.
"""

from __future__ import annotations

from typing import Any

from .. import ids, ledger, settlement
from ..collection import Obj
from ..config import DAY
from ..errors import InvalidRequest
from ..events import changed, emit
from ..params import Params
from ..router import Ctx, list_page, route, update_metadata
from ..store import AccountState, Store, on_due

FAILURE_MESSAGES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": "The bank account has restrictions on either the type, or the "
                               "number, of payouts allowed.",
    "could_not_process": "The bank could not process this payout.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": "The routing number seems correct, but the account number is "
                              "invalid.",
    "no_account": "The bank account details on file are probably incorrect. No bank account "
                  "could be located with those details.",
}
PLATFORM_BANK = "ba_1MidwaySimPlatformBank"


def _destination(ctx: Ctx) -> str:
    if ctx.acct.is_platform:
        return PLATFORM_BANK
    account = ctx.platform.objects[ctx.acct.id]
    banks = account["external_accounts"]["data"]
    return banks[0]["id"] if banks else PLATFORM_BANK


@route("POST", "/v1/payouts")
def create(ctx: Ctx, p: Params) -> Obj:
    amount = p.amount(required=True)
    currency = p.currency()
    method = p.str("method", choices=("standard", "instant")) or "standard"
    description = p.str("description")
    metadata = p.metadata() or {}
    statement_descriptor = p.str("statement_descriptor")
    source_type = p.str("source_type", choices=("bank_account", "card", "fpx")) or "card"
    destination = p.str("destination")
    p.raw("payout_method")
    p.done()
    store = ctx.store
    if not ctx.acct.is_platform:
        account = ctx.platform.objects[ctx.acct.id]
        if not account["payouts_enabled"]:
            raise InvalidRequest(
                "Payouts are not enabled for this account: it must complete onboarding first.",
                code="payouts_not_allowed",
            )
    settles_in = settlement.currencies(store, ctx.acct)
    if currency not in settles_in:
        # Payouts go to a bank account in the payout's currency (docs.stripe.com/payouts,
        # "Supported currencies"); the account has one only for its settlement currencies.
        raise InvalidRequest(
            f"You do not have a bank account for {currency}; this account can pay out in: "
            + ", ".join(settles_in) + ".", param="currency",
        )
    fee = store.config.fees.instant_payout_fee(amount, currency) if method == "instant" else 0
    available = ledger.amount_of(ctx.acct, currency, "available", source_type)
    if amount + fee > available:
        raise InvalidRequest(
            f"You have insufficient funds in your Stripe account for this transfer. Your "
            f"{source_type} balance is too low. You can use the /v1/balance endpoint to view "
            "your Stripe balance (for more details, see stripe.com/docs/api#balance).",
            code="balance_insufficient", param="amount",
        )
    now = store.now()
    po_id = ids.new_id("po")
    details = []
    if fee:
        details.append(ledger.fee_detail(fee, currency, "stripe_fee", "Instant Payout fee"))
    txn = ledger.create(
        store, ctx.acct, amount=-amount, currency=currency, type="payout", source=po_id,
        fee_details=details, description=description or "STRIPE PAYOUT", source_type=source_type,
    )
    store.internal(ctx.acct, txn["id"])["payout"] = po_id
    if method == "instant":
        arrival = now
        in_transit_at = now
    else:
        arrival = ledger.day_start(now) + store.config.payout_delay_days * DAY
        in_transit_at = now + store.config.payout_in_transit_after_s
    payout: Obj = {
        "id": po_id, "object": "payout", "amount": amount, "application_fee": None,
        "application_fee_amount": None, "arrival_date": arrival, "automatic": False,
        "balance_transaction": txn["id"], "created": now, "currency": currency,
        "description": description or "STRIPE PAYOUT",
        "destination": destination or _destination(ctx),
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "livemode": False, "metadata": metadata, "method": method, "original_payout": None,
        "payout_method": None, "reconciliation_status": "not_applicable", "reversed_by": None,
        "source_type": source_type, "statement_descriptor": statement_descriptor,
        "status": "pending", "trace_id": {"status": "pending", "value": None},
        "type": "bank_account",
    }
    store.add(ctx.acct, payout)
    account_failure = store.internal(store.platform, "payout_failures").get(ctx.acct.id)
    if account_failure:
        store.internal(ctx.acct, po_id)["fail"] = account_failure
    store.schedule(in_transit_at, "payout.in_transit", ctx.acct, po_id)
    store.schedule(max(arrival, in_transit_at + (60 if method == "instant" else 0)),
                   "payout.arrive", ctx.acct, po_id)
    emit(store, ctx.acct, "payout.created", payout)
    return payout


@on_due("payout.in_transit")
def _in_transit(store: Store, acct: AccountState, po_id: str) -> None:
    payout = acct.objects.get(po_id)
    if payout is None or payout["status"] != "pending":
        return
    previous = changed(payout, {"status": "in_transit"})
    emit(store, acct, "payout.updated", payout, previous)


@on_due("payout.arrive")
def _arrive(store: Store, acct: AccountState, po_id: str) -> None:
    payout = acct.objects.get(po_id)
    if payout is None or payout["status"] not in ("pending", "in_transit"):
        return
    failure = store.internal(acct, po_id).get("fail")
    if failure:
        fail(store, acct, payout, failure)
        return
    previous = changed(payout, {
        "status": "paid", "reconciliation_status": "completed",
        "trace_id": {"status": "supported", "value": ids.new_id("", 14).lstrip("_")},
    })
    emit(store, acct, "payout.paid", payout, previous)
    emit(store, acct, "payout.updated", payout, previous)


def fail(store: Store, acct: AccountState, payout: Obj, code: str) -> None:
    """The bank returned the payout: the money comes back as a payout_failure."""
    txn = ledger.create(
        store, acct, amount=payout["amount"], currency=payout["currency"],
        type="payout_failure", source=payout["id"],
        description=f"Payout failure ({code})",
        source_type=payout["source_type"],
    )
    store.internal(acct, txn["id"])["payout"] = payout["id"]
    previous = changed(payout, {
        "status": "failed",
        "failure_code": code,
        "failure_message": FAILURE_MESSAGES.get(code, "The payout failed."),
        "failure_balance_transaction": txn["id"],
    })
    emit(store, acct, "payout.failed", payout, previous)
    emit(store, acct, "payout.updated", payout, previous)


@route("POST", "/v1/payouts/{po_id}/cancel")
def cancel(ctx: Ctx, p: Params, po_id: str) -> Obj:
    payout = ctx.store.get(ctx.acct, "payout", po_id)
    p.done()
    if payout["status"] != "pending":
        raise InvalidRequest(
            f"Payouts can only be canceled while they are pending; this payout is "
            f"{payout['status']}."
        )
    txn = ledger.create(
        ctx.store, ctx.acct, amount=payout["amount"], currency=payout["currency"],
        type="payout_cancel", source=po_id, source_type=payout["source_type"],
    )
    ctx.store.internal(ctx.acct, txn["id"])["payout"] = po_id
    previous = changed(payout, {"status": "canceled"})
    emit(ctx.store, ctx.acct, "payout.canceled", payout, previous)
    return payout


@route("GET", "/v1/payouts/{po_id}")
def retrieve(ctx: Ctx, p: Params, po_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "payout", po_id)


@route("POST", "/v1/payouts/{po_id}")
def update(ctx: Ctx, p: Params, po_id: str) -> Obj:
    return update_metadata(ctx, p, "payout", po_id)


@route("GET", "/v1/payouts")
def list_payouts(ctx: Ctx, p: Params) -> Obj:
    status = p.str("status")
    destination = p.str("destination")
    arrival: dict[str, Any] | None = p.range("arrival_date")

    def where(po: Obj) -> bool:
        if status and po["status"] != status:
            return False
        if destination and po["destination"] != destination:
            return False
        if arrival:
            a = po["arrival_date"]
            if ("gt" in arrival and not a > arrival["gt"]) or (
                "gte" in arrival and not a >= arrival["gte"]) or (
                "lt" in arrival and not a < arrival["lt"]) or (
                    "lte" in arrival and not a <= arrival["lte"]):
                return False
        return True

    return list_page(ctx, p, "payout", "/v1/payouts",
                     where if status or destination or arrival else None)
