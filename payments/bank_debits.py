"""Bank debits (ACH Direct Debit) as they really settle at Stripe.

A bank debit is a `py_…` payment that stays `processing` for up to 4 business days. Stripe
books it at once as a pending `payment` balance transaction; if the bank returns it, a
`payment_failure_refund` takes the funds back (docs.stripe.com/payments/ach-direct-debit;
docs.stripe.com/reports/balance-transaction-types). The ledger mirrors both as they appear,
so every day reconciles, and keeps the gross in `bank_debits_in_flight` — owed to no carrier,
earned by no one — until the debit settles (bookings.book_bank_debit_settled).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import Payment
from payments import bookings
from payments.gateway import StripeGateway

StripeJSON = dict[str, Any]


def _is_bank_debit(charge: object) -> bool:
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    return isinstance(charge_id, str) and charge_id.startswith("py_")


def record_stage(
    session: Session, gateway: StripeGateway, payment: Payment, intent: StripeJSON
) -> None:
    """Book what a bank debit's PaymentIntent shows: processing (its pending payment) or
    returned (its payment_failure_refund). Cards and other stages: nothing to do here."""
    status = intent.get("status")
    if status not in ("processing", "requires_payment_method"):
        return
    if not _is_bank_debit(intent.get("latest_charge")):
        return
    charge = intent["latest_charge"]
    if not isinstance(charge, dict) or not isinstance(charge.get("balance_transaction"), dict):
        # A webhook's copy is not expanded: read the payment with its balance transaction.
        charge = gateway.retrieve_payment_intent(intent["id"])["latest_charge"]
    if not isinstance(charge.get("balance_transaction"), dict):
        return  # not yet at Stripe's balance
    bookings.book_bank_debit_pending(
        session, payment, charge["balance_transaction"], payment_intent=intent["id"]
    )
    failure = charge.get("failure_balance_transaction")
    if status == "requires_payment_method" and failure:
        if not isinstance(failure, dict):
            failure = gateway.retrieve_balance_transaction(failure)
        bookings.book_bank_debit_returned(session, payment, failure, payment_intent=intent["id"])
