"""Disputes (chargebacks): opened on a charge, answered with evidence, then won or lost.

Opening one withdraws the disputed amount plus Stripe's dispute fee at once (an `adjustment`
balance transaction, reporting_category `dispute`, source `du_...`); winning returns both
(`dispute_reversal`); losing, accepting (close) or letting evidence go past due leaves them
withdrawn. Disputes open through the test cards pm_card_createDispute* or
POST /_sim/charges/{id}/dispute, and resolve through POST /_sim/disputes/{id}/resolve or, as
in Stripe test mode, by submitting evidence whose uncategorized_text is "winning_evidence" or
"losing_evidence".
"""

from __future__ import annotations

from typing import Any

from .. import ids, ledger, settlement
from ..collection import Obj
from ..config import DAY
from ..errors import InvalidRequest
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from ..store import AccountState, Store, on_due

REASONS = (
    "bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
    "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details",
    "insufficient_funds", "noncompliant", "product_not_received", "product_unacceptable",
    "subscription_canceled", "unrecognized",
)
OPEN = ("needs_response", "under_review")  # statuses a resolution can end
EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
    "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
    "uncategorized_file", "uncategorized_text",
)
# The card network's own reason code for each reason (Visa / Mastercard).
NETWORK_REASON = {
    "visa": {"fraudulent": "10.4", "product_not_received": "13.1", "duplicate": "12.6.1",
             "credit_not_processed": "13.6", "subscription_canceled": "13.2",
             "product_unacceptable": "13.3", "general": "13.1"},
    "mastercard": {"fraudulent": "4837", "product_not_received": "4855", "duplicate": "4834",
                   "credit_not_processed": "4860", "subscription_canceled": "4841",
                   "product_unacceptable": "4853", "general": "4853"},
}
# Stripe test mode: evidence with this uncategorized_text decides the outcome.
TEST_OUTCOMES = {"winning_evidence": "won", "losing_evidence": "lost"}


def _method_details(charge: Obj, reason: str) -> Obj:
    pmd = charge["payment_method_details"]
    if pmd["type"] != "card":
        return {"type": pmd["type"]}
    brand = pmd["card"]["brand"]
    return {"card": {"brand": brand, "case_type": "chargeback", "network": brand,
                     "network_reason_code": NETWORK_REASON.get(brand, {}).get(reason)},
            "type": "card"}


def check_disputable(charge: Obj, amount: int | None) -> None:
    """Raise, before any change, when this charge cannot be disputed (for this amount)."""
    if charge["payment_method_details"]["type"] == "stripe_account":
        raise InvalidRequest("A transfer's payment on a connected account cannot be disputed.")
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise InvalidRequest(f"Charge {charge['id']} has not been captured and cannot be "
                             "disputed.", code="charge_not_captured")
    if charge["disputed"]:
        raise InvalidRequest(f"Charge {charge['id']} has already been disputed.",
                             code="charge_disputed")
    if amount is not None and not 0 < amount <= charge["amount_captured"]:
        raise InvalidRequest("amount must be a positive integer no greater than the captured "
                             f"amount ({charge['amount_captured']}).", param="amount")


def open_dispute(store: Store, acct: AccountState, charge: Obj, reason: str = "fraudulent",
                 amount: int | None = None) -> Obj:
    """The cardholder's bank charges the payment back: money and fee leave the balance now."""
    amount = charge["amount_captured"] if amount is None else amount
    currency = charge["currency"]
    # Withdrawn from the balance in its settlement currency (converted at today's rate).
    settled = settlement.settle(store, acct, amount, currency)
    du_id = ids.new_id("du")
    fee = store.config.fees.dispute_fee(settled.currency)
    details = ([ledger.fee_detail(fee, settled.currency, "stripe_fee", "Dispute fee")]
               if fee else [])
    txn = ledger.create(
        store, acct, amount=-settled.amount, currency=settled.currency, type="adjustment",
        source=du_id, fee_details=details,
        description=f"Chargeback withdrawal for {charge['id']}", reporting_category="dispute",
        exchange_rate=settled.exchange_rate,
    )
    now = store.now()
    pmd = _method_details(charge, reason)
    fraud_visa = reason == "fraudulent" and (pmd.get("card") or {}).get("brand") == "visa"
    dispute: Obj = {
        "id": du_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [txn],
        "charge": charge["id"],
        "created": now,
        "currency": currency,
        "enhanced_eligibility_types": ["visa_compelling_evidence_3"] if fraud_visa else [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            # End of the last day to respond, UTC.
            "due_by": ledger.day_start(now) + (store.config.dispute_evidence_days + 1) * DAY - 1,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        # A chargeback has already taken the money: refunding on top would pay twice.
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": pmd,
        "reason": reason,
        "status": "needs_response",
    }
    store.add(acct, dispute)
    charge["disputed"] = True
    store.internal(acct, charge["id"])["dispute"] = du_id
    store.schedule(dispute["evidence_details"]["due_by"], "dispute.due", acct, du_id)
    emit(store, acct, "charge.dispute.created", dispute)
    emit(store, acct, "charge.dispute.funds_withdrawn", dispute)
    return dispute


def open_for_test_card(store: Store, acct: AccountState, charge: Obj) -> None:
    """pm_card_createDispute*: the charge succeeded and is disputed at once."""
    reason = store.internal(acct, charge["id"]).get("dispute_reason")
    if reason and not charge["disputed"]:
        open_dispute(store, acct, charge, reason)


def blocks_refund(store: Store, acct: AccountState, charge: Obj) -> bool:
    """A charged-back payment cannot also be refunded, unless the merchant won it back."""
    dispute = acct.objects.get(store.internal(acct, charge["id"]).get("dispute") or "")
    if dispute is None:
        return False
    return dispute["status"] != "won" and not dispute["is_charge_refundable"]


def resolve(store: Store, acct: AccountState, dispute: Obj, outcome: str) -> None:
    """The network decides: `won` returns the amount and the fee, `lost` keeps them."""
    if outcome == "won":
        charge_id = dispute["charge"]
        withdrawal = dispute["balance_transactions"][0]
        fee = withdrawal["fee"]
        currency = withdrawal["currency"]  # reinstated as it was withdrawn
        details = [ledger.fee_detail(-fee, currency, "stripe_fee", "Dispute fee")] if fee else []
        txn = ledger.create(
            store, acct, amount=-withdrawal["amount"], currency=currency, type="adjustment",
            source=dispute["id"], fee_details=details,
            description=f"Chargeback reversal for {charge_id}",
            reporting_category="dispute_reversal",
        )
        previous = changed(dispute, {
            "status": "won", "balance_transactions": [*dispute["balance_transactions"], txn]})
        emit(store, acct, "charge.dispute.funds_reinstated", dispute, previous)
    else:
        previous = changed(dispute, {"status": "lost"})
    emit(store, acct, "charge.dispute.closed", dispute, previous)


@on_due("dispute.due")
def _due(store: Store, acct: AccountState, du_id: str) -> None:
    # No response by the deadline: the dispute is lost.
    dispute = acct.objects.get(du_id)
    if dispute is None or dispute["status"] != "needs_response":
        return
    dispute["evidence_details"]["past_due"] = True
    resolve(store, acct, dispute, "lost")


@on_due("dispute.test_outcome")
def _test_outcome(store: Store, acct: AccountState, du_id: str) -> None:
    dispute = acct.objects.get(du_id)
    if dispute is None or dispute["status"] != "under_review":
        return
    text = dispute["evidence"].get("uncategorized_text")
    resolve(store, acct, dispute, TEST_OUTCOMES[text])


def _read_evidence(p: Params) -> dict[str, Any] | None:
    raw = p.dict("evidence")
    if raw is None:
        return None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "enhanced_evidence":
            if not isinstance(value, dict):
                raise InvalidRequest("Invalid object", param="evidence[enhanced_evidence]")
            out[key] = value
        elif key not in EVIDENCE_FIELDS:
            raise InvalidRequest(f"Received unknown parameter: evidence[{key}]",
                                 code="parameter_unknown", param=f"evidence[{key}]")
        elif not isinstance(value, str):
            raise InvalidRequest(f"Invalid string: {value!r}",
                                 code="parameter_invalid_string", param=f"evidence[{key}]")
        else:
            out[key] = value or None  # an empty string unsets the field
    return out


@route("GET", "/v1/disputes/{du_id}")
def retrieve(ctx: Ctx, p: Params, du_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "dispute", du_id)


@route("POST", "/v1/disputes/{du_id}")
def update(ctx: Ctx, p: Params, du_id: str) -> Obj:
    dispute = ctx.store.get(ctx.acct, "dispute", du_id)
    evidence = _read_evidence(p)
    metadata = p.metadata()
    submit_param = p.bool("submit")
    p.raw("intended_submission_method")
    p.done()
    # Stripe's `submit` defaults to true: evidence sent without it goes to the bank.
    submit = submit_param if submit_param is not None else evidence is not None
    if (evidence is not None or submit) and dispute["status"] != "needs_response":
        raise InvalidRequest(
            f"This dispute is {dispute['status']}: its evidence can no longer be changed or "
            "submitted.")
    updates: dict[str, Any] = {}
    if metadata is not None:
        updates["metadata"] = merge_metadata(dispute["metadata"], metadata)
    if evidence is not None:
        updates["evidence"] = {**dispute["evidence"], **evidence}
    details = dict(dispute["evidence_details"])
    if evidence is not None:
        details["has_evidence"] = any(
            v for k, v in updates["evidence"].items() if k != "enhanced_evidence")
    if submit:
        details["submission_count"] += 1
        updates["status"] = "under_review"
    updates["evidence_details"] = details
    previous = changed(dispute, updates)
    if previous:
        emit(ctx.store, ctx.acct, "charge.dispute.updated", dispute, previous)
    if submit and dispute["evidence"].get("uncategorized_text") in TEST_OUTCOMES:
        ctx.store.schedule(ctx.store.now(), "dispute.test_outcome", ctx.acct, du_id)
    return dispute


@route("POST", "/v1/disputes/{du_id}/close")
def close(ctx: Ctx, p: Params, du_id: str) -> Obj:
    dispute = ctx.store.get(ctx.acct, "dispute", du_id)
    p.done()
    if dispute["status"] != "needs_response":
        raise InvalidRequest(
            f"This dispute is {dispute['status']} and cannot be closed; only a dispute that "
            "needs a response can be accepted.")
    # Accepting the dispute: it is lost and the money stays withdrawn.
    resolve(ctx.store, ctx.acct, dispute, "lost")
    return dispute


@route("GET", "/v1/disputes")
def list_disputes(ctx: Ctx, p: Params) -> Obj:
    charge = p.str("charge")
    payment_intent = p.str("payment_intent")

    def where(d: Obj) -> bool:
        return (not charge or d["charge"] == charge) and (
            not payment_intent or d["payment_intent"] == payment_intent)

    return list_page(ctx, p, "dispute", "/v1/disputes",
                     where if charge or payment_intent else None)
