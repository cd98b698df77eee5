"""Refunds: full and partial, by charge or PaymentIntent. Stripe keeps its fee.

A refund debits the balance (`refund` balance transaction, fee 0; `payment_refund` for a bank
debit) at once, in the settlement currency of the charge, converted at the refund day's rate
when the charge was converted. For destination
charges `reverse_transfer` pulls the proportional share back from the connected account and
`refund_application_fee` returns the platform's fee proportionally.
"""

from __future__ import annotations

from .. import ids, ledger, settlement
from ..collection import Obj
from ..errors import InvalidRequest
from ..events import changed, emit
from ..params import Params
from ..router import Ctx, list_page, route, update_metadata
from . import application_fees, charges, disputes, transfers

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_for(ctx: Ctx, charge_id: str | None, pi_id: str | None) -> Obj:
    if charge_id:
        return ctx.store.get(ctx.acct, "charge", charge_id, "charge")
    if pi_id:
        pi = ctx.store.get(ctx.acct, "payment_intent", pi_id, "payment_intent")
        if not pi["latest_charge"] or pi["status"] not in ("succeeded", "requires_capture"):
            raise InvalidRequest(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        return ctx.acct.objects[pi["latest_charge"]]
    raise InvalidRequest(
        "One of the following params should be provided for this request: payment_intent or "
        "charge.",
        code="parameter_missing",
    )


def _proportion(total: int, part: int, whole: int) -> int:
    return (total * part + whole // 2) // whole if whole else 0


@route("POST", "/v1/refunds")
def create(ctx: Ctx, p: Params) -> Obj:
    charge_id = p.str("charge")
    pi_id = p.str("payment_intent")
    amount = p.amount()
    reason = p.str("reason", choices=REASONS)
    metadata = p.metadata() or {}
    reverse_transfer = p.bool("reverse_transfer", False)
    refund_fee = p.bool("refund_application_fee", False)
    for name in ("instructions_email", "origin", "expand"):
        p.raw(name)
    p.done()
    charge = _charge_for(ctx, charge_id, pi_id)
    if charge["status"] == "succeeded" and not charge["captured"] and not charge["refunded"]:
        return release_authorization(ctx, charge, amount, reason, metadata)
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise InvalidRequest(
            f"Charge {charge['id']} has already been refunded." if charge["refunded"] else
            f"Charge {charge['id']} cannot be refunded because it has status {charge['status']}.",
            code="charge_already_refunded" if charge["refunded"] else "charge_not_refundable",
        )
    if disputes.blocks_refund(ctx.store, ctx.acct, charge):
        raise InvalidRequest(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    left = charges.refundable(ctx, charge)
    if left <= 0:
        raise InvalidRequest(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount is None:
        amount = left
    if amount > left:
        raise InvalidRequest(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            code="amount_too_large", param="amount",
        )
    return refund_charge(ctx, charge, amount, reason, metadata, reverse_transfer, refund_fee)


def release_authorization(
    ctx: Ctx, charge: Obj, amount: int | None, reason: str | None, metadata: Obj
) -> Obj:
    """Refunding an uncaptured charge in full releases the authorization: its PaymentIntent is
    canceled and no money moves (no balance transaction). A partial amount is refused.
    Source: https://docs.stripe.com/api/refunds/create and
    https://docs.stripe.com/payments/place-a-hold-on-a-payment-method#cancel-authorization ."""
    if amount is not None and amount != charge["amount"]:
        raise InvalidRequest(
            "You cannot partially refund an uncaptured charge. Instead, capture the charge for "
            "an amount less than the original amount.", param="amount",
        )
    store = ctx.store
    refund: Obj = {
        "id": ids.new_id("re"), "object": "refund", "amount": charge["amount"],
        "balance_transaction": None, "charge": charge["id"], "created": store.now(),
        "currency": charge["currency"], "customer": charge["customer"],
        "customer_account": None, "description": None, "destination_details": None,
        "metadata": metadata, "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"], "reason": reason, "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    }
    store.add(ctx.acct, refund)
    charge["refunds"]["data"].insert(0, refund)
    previous = changed(charge, {"amount_refunded": charge["amount"], "refunded": True})
    pi = ctx.acct.objects.get(charge["payment_intent"] or "")
    if pi is not None and pi["status"] == "requires_capture":
        pi.update({"status": "canceled", "canceled_at": store.now(), "amount_capturable": 0,
                   "cancellation_reason": None})
        emit(store, ctx.acct, "payment_intent.canceled", pi)
    emit(store, ctx.acct, "refund.created", refund)
    emit(store, ctx.acct, "charge.refunded", charge, previous)
    return refund


def refund_charge(
    ctx: Ctx, charge: Obj, amount: int, reason: str | None, metadata: Obj,
    reverse_transfer: bool = False, refund_fee: bool = False,
) -> Obj:
    store = ctx.store
    bank = charge["payment_method_details"]["type"] == "us_bank_account"
    re_id = ids.new_id("pyr" if bank else "re")  # a bank debit's refund is a pyr_
    desc = charge["description"]
    charged = ctx.acct.objects.get(charge["balance_transaction"] or "") or {}
    # A converted charge is refunded in its settlement currency at the refund day's rate
    # (docs.stripe.com/currencies: "Stripe converts ... refunds ... at the current rate").
    settled = settlement.settle(store, ctx.acct, amount, charge["currency"])
    if charged.get("currency") and charged["currency"] != settled.currency:
        settled = settlement.Settled(amount, charge["currency"])  # settled as it was charged
    # Bank debits are refunded as `payment_refund` (docs.stripe.com/reports/
    # balance-transaction-types).
    txn = ledger.create(
        store, ctx.acct, amount=-settled.amount, currency=settled.currency,
        type="payment_refund" if bank else "refund", source=re_id,
        description=f"REFUND FOR CHARGE ({desc})" if desc else "REFUND FOR CHARGE",
        exchange_rate=settled.exchange_rate,
        source_type="bank_account" if bank else "card",
    )
    refund: Obj = {
        "id": re_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": store.now(),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "description": None,
        "destination_details": {"card": {"reference_status": "pending", "reference_type":
                                         "acquirer_reference_number", "type": "refund"},
                                "type": "card"},
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    store.add(ctx.acct, refund)
    info = store.internal(ctx.acct, charge["id"])
    info["refunded_real"] = info.get("refunded_real", 0) + amount
    if reverse_transfer and charge["transfer"]:
        tr = ctx.acct.objects[charge["transfer"]]
        share = min(_proportion(tr["amount"], amount, charge["amount_captured"]),
                    tr["amount"] - tr["amount_reversed"])
        if share > 0:
            reversal = transfers.reverse(ctx, tr, share, {}, None)
            reversal["source_refund"] = re_id
            refund["transfer_reversal"] = reversal["id"]
    if refund_fee and charge["application_fee"]:
        fee = store.platform.objects[charge["application_fee"]]
        share = min(_proportion(fee["amount"], amount, charge["amount_captured"]),
                    fee["amount"] - fee["amount_refunded"])
        if share > 0:
            application_fees.refund_fee(store, fee, share)
    charge["refunds"]["data"].insert(0, refund)
    new_total = charge["amount_refunded"] + amount
    previous = changed(charge, {
        "amount_refunded": new_total,
        "refunded": new_total >= charge["amount"],
    })
    emit(store, ctx.acct, "refund.created", refund)
    emit(store, ctx.acct, "charge.refunded", charge, previous)
    return refund


@route("GET", "/v1/refunds/{re_id}")
def retrieve(ctx: Ctx, p: Params, re_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "refund", re_id)


@route("POST", "/v1/refunds/{re_id}")
def update(ctx: Ctx, p: Params, re_id: str) -> Obj:
    return update_metadata(ctx, p, "refund", re_id)


@route("GET", "/v1/refunds")
def list_refunds(ctx: Ctx, p: Params) -> Obj:
    charge = p.str("charge")
    pi = p.str("payment_intent")

    def where(r: Obj) -> bool:
        return (not charge or r["charge"] == charge) and (not pi or r["payment_intent"] == pi)

    return list_page(ctx, p, "refund", "/v1/refunds", where if charge or pi else None)


@route("GET", "/v1/charges/{ch_id}/refunds")
def list_charge_refunds(ctx: Ctx, p: Params, ch_id: str) -> Obj:
    ctx.store.get(ctx.acct, "charge", ch_id)
    return list_page(ctx, p, "refund", f"/v1/charges/{ch_id}/refunds",
                     lambda r: r["charge"] == ch_id)
