"""Bank debits (ACH Direct Debit) as they really settle at Stripe.

A bank debit is a `py_…` payment that stays `processing` for up to 4 business days. Stripe
books it at once as a pending `payment` balance transaction; if the bank returns it, a
`payment_failure_refund` takes the funds back (docs.stripe.com/payments/ach-direct-debit;
docs.stripe.com/reports/balance-transaction-types). The ledger mirrors both as they appear,
so every day reconciles, and keeps the gross in `bank_debits_in_flight` — owed to no carrier,
earned by no one — until the debit settles (bookings.book_bank_debit_settled).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import Payment
from payments import bookings
from payments.gateway.records import PaymentIntent


def is_bank_debit(charge_id: str | None) -> bool:
    return charge_id is not None and charge_id.startswith("py_")


STAGES = ("processing", "requires_payment_method")


def record_stage(session: Session, payment: Payment, intent: PaymentIntent) -> None:
    """Book what a bank debit's PaymentIntent shows: processing (its pending payment) or
    returned (its payment_failure_refund). Cards and other stages: nothing to do here. The
    intent carries its charge's balance transactions (charges.with_balance_transactions)."""
    charge = intent.latest_charge
    if intent.status not in STAGES or charge is None or not is_bank_debit(charge.id):
        return
    if charge.balance_transaction is None:
        return  # not yet at Stripe's balance
    bookings.book_bank_debit_pending(
        session, payment, charge.balance_transaction, payment_intent=intent.id
    )
    failure = charge.failure_balance_transaction
    if intent.status == "requires_payment_method" and failure is not None:
        bookings.book_bank_debit_returned(session, payment, failure, payment_intent=intent.id)
