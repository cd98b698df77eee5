"""ACH Direct Debit (`us_bank_account`): processing for business days, then success or return.

What Stripe does (docs.stripe.com/payments/ach-direct-debit: a "delayed notification" method,
"It can take up to 4 business days to receive acknowledgement of success or failure";
docs.stripe.com/reports/balance-transaction-types):
- confirming creates the payment (`py_…`) at once, `pending`, with a pending balance
  transaction of type `payment` (fee: 0.8% capped at $5); the PaymentIntent is `processing`;
- after the processing days it either succeeds (charge and PaymentIntent `succeeded`, the
  balance transaction becomes available in time), or the bank returns it: the charge `failed`
  with the return's failure code, the PaymentIntent back to `requires_payment_method` with
  `last_payment_error`, and a `payment_failure_refund` balance transaction takes the funds back
  (`charge.failure_balance_transaction`), with Stripe's failed-payment fee;
- refunds of a bank debit are `payment_refund` balance transactions (refunds.py).
"""

from __future__ import annotations

from .. import ledger
from ..collection import Obj
from ..config import DAY
from ..events import emit
from ..router import Ctx
from ..store import AccountState, Store, on_due
from ..testcards import MagicMethod

RETURN_MESSAGES = {
    "insufficient_funds": "The customer's account has insufficient funds to cover this payment.",
    "account_closed": "The customer's bank account has been closed.",
}


def add_business_days(when: int, days: int) -> int:
    """`when` moved on by `days` weekdays (Monday to Friday, UTC), same time of day."""
    while days > 0:
        when += DAY
        if (when // DAY + 3) % 7 < 5:  # day 0 (1970-01-01) was a Thursday
            days -= 1
    return when


def start(ctx: Ctx, pi: Obj, charge: Obj, magic: MagicMethod) -> None:
    """Confirming a bank debit: the payment and its pending balance transaction now."""
    store = ctx.store
    settles_at = add_business_days(store.now(), store.config.ach_processing_business_days)
    amount = charge["amount"]
    fee = store.config.fees.ach_fee(amount, charge["currency"])
    txn = ledger.create(
        store, ctx.acct, amount=amount, currency=charge["currency"], type="payment",
        source=charge["id"], description=charge["description"],
        fee_details=[ledger.fee_detail(fee, charge["currency"], "stripe_fee",
                                       "Stripe processing fees")],
        available_on=ledger.charge_available_on(store, settles_at),
        source_type="bank_account",
    )
    charge["balance_transaction"] = txn["id"]
    info = store.internal(ctx.acct, charge["id"])
    info["bank_failure"] = magic.bank_failure
    pi["status"] = "processing"
    pi["processing"] = {"type": "us_bank_account"}
    emit(store, ctx.acct, "charge.pending", charge)
    emit(store, ctx.acct, "payment_intent.processing", pi)
    store.schedule(settles_at, "bank_debit.settle", ctx.acct, pi["id"])


@on_due("bank_debit.settle")
def _settle(store: Store, acct: AccountState, pi_id: str) -> None:
    pi = acct.objects.get(pi_id)
    if pi is None or pi["status"] != "processing":
        return
    charge = acct.objects[pi["latest_charge"]]
    failure = store.internal(acct, charge["id"]).get("bank_failure")
    if failure:
        _returned(store, acct, pi, charge, failure)
        return
    charge.update({"status": "succeeded", "paid": True, "captured": True,
                   "amount_captured": charge["amount"]})
    pi.update({"status": "succeeded", "amount_received": charge["amount"], "processing": None})
    emit(store, acct, "charge.succeeded", charge)
    emit(store, acct, "payment_intent.succeeded", pi)


def _returned(store: Store, acct: AccountState, pi: Obj, charge: Obj, code: str) -> None:
    original = acct.objects[charge["balance_transaction"]]
    fee = store.config.fees.ach_failure_fee
    txn = ledger.create(
        store, acct, amount=-original["amount"], currency=original["currency"],
        type="payment_failure_refund", source=charge["id"],
        fee_details=[ledger.fee_detail(fee, original["currency"], "stripe_fee",
                                       "Failed ACH Direct Debit fee")] if fee else None,
        description="Payment failure refund", available_on=original["available_on"],
        source_type="bank_account",
    )
    message = RETURN_MESSAGES.get(code, "The customer's bank returned this payment.")
    charge.update({"status": "failed", "paid": False, "failure_code": code,
                   "failure_message": message, "failure_balance_transaction": txn["id"]})
    pm = acct.objects.get(pi["payment_method"] or "")
    pi.update({
        "status": "requires_payment_method", "processing": None, "payment_method": None,
        "last_payment_error": {
            "charge": charge["id"], "code": code, "decline_code": None,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message, "payment_method": pm, "type": "invalid_request_error",
        },
    })
    emit(store, acct, "charge.failed", charge)
    emit(store, acct, "payment_intent.payment_failed", pi)
