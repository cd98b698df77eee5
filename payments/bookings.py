"""Booking rules: which ledger posting mirrors which Stripe money movement.

Every function posts with a dedupe key derived from our row, so it may be called by the job
and by the webhook handler, in any order, any number of times: the posting is written once.
Amounts come from Stripe's balance transaction (gross `amount`, `fee`, `net`, `created`), so
the ledger says exactly what Stripe's balance says.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from models import Payment, PayoutBatch, Posting, Refund
from models.money import Money
from payments import chart, ledger
from payments.gateway.records import BalanceTransaction
from payments.ledger import Account, Line, StripeRefs, credit, debit


def lock_carrier(session: Session, carrier_id: int) -> None:
    """Serialise bookings that read then move a carrier's payable (refund split, transfers)."""
    session.execute(text("SELECT pg_advisory_xact_lock(1, :id)"), {"id": carrier_id})


def _occurred_at(balance_transaction: BalanceTransaction) -> datetime:
    return datetime.fromtimestamp(balance_transaction.created, UTC)


def _balance_side(
    stripe_account: str, balance_transaction: BalanceTransaction, fee_account: Account
) -> list[Line]:
    """The lines on the Stripe balance itself: net on the balance, fee on its own line."""
    currency = balance_transaction.currency
    net, fee = balance_transaction.net, balance_transaction.fee
    lines: list[Line] = []
    if net > 0:
        lines.append(debit(chart.stripe_balance(stripe_account), Money(net, currency), "net"))
    elif net < 0:
        lines.append(credit(chart.stripe_balance(stripe_account), Money(-net, currency), "net"))
    if fee > 0:
        lines.append(debit(fee_account, Money(fee, currency), chart.FEE_MEMO))
    elif fee < 0:
        lines.append(credit(fee_account, Money(-fee, currency), chart.FEE_MEMO))
    return lines


def _positive(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.money.amount > 0]


def _refs(balance_transaction: BalanceTransaction, **extra: str | None) -> StripeRefs:
    return StripeRefs(
        balance_transaction=balance_transaction.id,
        source=extra.get("source") or balance_transaction.source,
        payment_intent=extra.get("payment_intent"),
        account=extra.get("account"),
    )


def carrier_share_settled(payment: Payment, settled_gross: int, settled_currency: str) -> int:
    """The carrier's share of what Stripe credited. In the presentment currency it is their
    `carrier_amount` (at most the gross). Converted, it is `carrier_amount` at the charge's own
    rate — the balance transaction's amount over the presented amount — rounded down to the
    settlement minor unit, so we never owe more than Stripe credited for the load."""
    if settled_currency == payment.currency:
        return min(payment.carrier_amount, settled_gross)
    return payment.carrier_amount * settled_gross // payment.amount


def _presented(payment: Payment, balance_transaction: BalanceTransaction) -> str:
    rate = balance_transaction.exchange_rate
    if rate is None:
        return ""
    return f" ({Money(payment.amount, payment.currency)} at {rate})"


def _note_settlement(
    payment: Payment, balance_transaction: BalanceTransaction, carrier: int
) -> None:
    payment.settlement_amount = balance_transaction.amount
    payment.settlement_fee = balance_transaction.fee
    payment.settlement_currency = balance_transaction.currency
    payment.exchange_rate = balance_transaction.exchange_rate
    payment.carrier_settlement_amount = carrier


def _earned_lines(payment: Payment, gross: Money) -> tuple[list[Line], int]:
    """The gross split between the carrier's payable and our commission."""
    share = carrier_share_settled(payment, gross.amount, gross.currency)
    return [
        credit(chart.carrier_payable(payment.carrier_id), Money(share, gross.currency)),
        credit(chart.COMMISSION_REVENUE, Money(gross.amount - share, gross.currency)),
    ], share


def book_charge(
    session: Session,
    payment: Payment,
    balance_transaction: BalanceTransaction,
    *,
    payment_intent: str,
) -> Posting:
    """A succeeded charge: the platform balance gets gross less fee; the carrier's share is
    owed to them; the rest is our commission. All in what Stripe moved (the balance
    transaction's settlement currency); the presented amount and rate stay on the payment.

    A bank debit was booked when it started processing (book_bank_debit_pending); its success
    moves the funds from in-flight to the carrier and us (bank debits: payments/bank_debits.py).
    """
    if balance_transaction.type == "payment":
        return book_bank_debit_settled(
            session, payment, balance_transaction, payment_intent=payment_intent
        )
    gross = Money(balance_transaction.amount, balance_transaction.currency)
    earned, share = _earned_lines(payment, gross)
    _note_settlement(payment, balance_transaction, share)
    lines = _balance_side(chart.PLATFORM, balance_transaction, chart.STRIPE_FEES) + earned
    return ledger.post(
        session,
        kind=balance_transaction.type,
        lines=_positive(lines),
        occurred_at=_occurred_at(balance_transaction),
        description=f"payment {payment.id} for load {payment.load_id}"
        + _presented(payment, balance_transaction),
        dedupe_key=f"charge:{payment.id}",
        stripe=_refs(balance_transaction, payment_intent=payment_intent),
    )


def book_bank_debit_pending(
    session: Session,
    payment: Payment,
    balance_transaction: BalanceTransaction,
    *,
    payment_intent: str,
) -> Posting:
    """A bank debit processing: Stripe's pending `payment` balance transaction is mirrored at
    once (so the day reconciles), but its gross is in flight, owed to no one until it settles."""
    gross = Money(balance_transaction.amount, balance_transaction.currency)
    lines = _balance_side(chart.PLATFORM, balance_transaction, chart.STRIPE_FEES) + [
        credit(chart.BANK_DEBITS_IN_FLIGHT, gross)
    ]
    return ledger.post(
        session,
        kind=balance_transaction.type,
        lines=_positive(lines),
        occurred_at=_occurred_at(balance_transaction),
        description=f"bank debit {payment.id} for load {payment.load_id} processing",
        # Per Stripe payment: a payment returned, then confirmed again, is a second py_.
        dedupe_key=f"bank_debit:{balance_transaction.source}",
        stripe=_refs(balance_transaction, payment_intent=payment_intent),
    )


def book_bank_debit_settled(
    session: Session,
    payment: Payment,
    balance_transaction: BalanceTransaction,
    *,
    payment_intent: str,
) -> Posting:
    """A bank debit that settled: what was in flight becomes the carrier's and ours. No Stripe
    balance moves now (its `payment` balance transaction was booked when processing began)."""
    pending = book_bank_debit_pending(
        session, payment, balance_transaction, payment_intent=payment_intent
    )
    gross = Money(balance_transaction.amount, balance_transaction.currency)
    earned, share = _earned_lines(payment, gross)
    _note_settlement(payment, balance_transaction, share)
    ledger.post(
        session,
        kind="bank_debit_settled",
        lines=_positive([debit(chart.BANK_DEBITS_IN_FLIGHT, gross), *earned]),
        occurred_at=datetime.now(UTC),
        description=f"bank debit {payment.id} for load {payment.load_id} settled",
        dedupe_key=f"bank_debit_settled:{payment.id}",
        # The PaymentIntent only: no balance transaction moved, so reconciliation skips it.
        stripe=StripeRefs(payment_intent=payment_intent),
    )
    return pending


def book_bank_debit_returned(
    session: Session,
    payment: Payment,
    failure_transaction: BalanceTransaction,
    *,
    payment_intent: str,
) -> Posting:
    """A bank debit the bank returned: Stripe's `payment_failure_refund` takes the gross back
    (and its failed-payment fee) from the balance; what was in flight is gone."""
    returned = Money(-failure_transaction.amount, failure_transaction.currency)
    lines = _balance_side(chart.PLATFORM, failure_transaction, chart.STRIPE_FEES) + [
        debit(chart.BANK_DEBITS_IN_FLIGHT, returned)
    ]
    return ledger.post(
        session,
        kind=failure_transaction.type,
        lines=_positive(lines),
        occurred_at=_occurred_at(failure_transaction),
        description=f"bank debit {payment.id} for load {payment.load_id} returned",
        dedupe_key=f"bank_debit_returned:{failure_transaction.source}",
        stripe=_refs(failure_transaction, payment_intent=payment_intent),
    )


def carrier_share_of_refund(payment: Payment, refund_amount: int) -> int:
    """The carrier bears their proportion of a refund (in whatever currency it left the
    balance); the rounding remainder is ours."""
    return refund_amount * payment.carrier_amount // payment.amount


def book_refund(
    session: Session, refund: Refund, payment: Payment, balance_transaction: BalanceTransaction
) -> Posting:
    """A refund: the gross leaves the platform balance (Stripe keeps the original fee). The
    carrier's share comes out of what we owe them, or, if they were already paid, becomes a
    receivable offset against their next payout. A converted payment is refunded in the
    settlement currency at the refund day's rate: the carrier bears their proportion of what
    actually left the balance, the rate difference to the charge is ours."""
    currency = balance_transaction.currency
    refunded = -balance_transaction.amount
    share = carrier_share_of_refund(payment, refunded)
    lock_carrier(session, payment.carrier_id)
    owed = -ledger.balance(session, chart.carrier_payable(payment.carrier_id).code, currency).amount
    from_payable = max(0, min(share, owed))
    lines = _balance_side(chart.PLATFORM, balance_transaction, chart.STRIPE_FEES) + [
        debit(chart.carrier_payable(payment.carrier_id), Money(from_payable, currency)),
        debit(chart.carrier_receivable(payment.carrier_id), Money(share - from_payable, currency)),
        debit(chart.COMMISSION_REVENUE, Money(refunded - share, currency)),
    ]
    refund.settlement_amount = refunded
    refund.settlement_currency = currency
    refund.exchange_rate = balance_transaction.exchange_rate
    return ledger.post(
        session,
        kind=balance_transaction.type,
        lines=_positive(lines),
        occurred_at=_occurred_at(balance_transaction),
        description=f"refund {refund.id} of payment {payment.id}",
        dedupe_key=f"refund:{refund.id}",
        stripe=_refs(balance_transaction, payment_intent=payment.stripe_payment_intent_id),
    )


def book_transfer(
    session: Session, batch: PayoutBatch, balance_transaction: BalanceTransaction, *, transfer: str
) -> Posting:
    """Platform side of a transfer: what we owed the carrier leaves our balance. Receivables
    netted into this batch are cleared against the payable at the same time."""
    currency = balance_transaction.currency
    sent = -balance_transaction.amount
    lines = _balance_side(chart.PLATFORM, balance_transaction, chart.STRIPE_FEES) + [
        debit(
            chart.carrier_payable(batch.carrier_id), Money(sent + batch.receivable_offset, currency)
        ),
        credit(
            chart.carrier_receivable(batch.carrier_id), Money(batch.receivable_offset, currency)
        ),
    ]
    return ledger.post(
        session,
        kind="transfer",
        lines=_positive(lines),
        occurred_at=_occurred_at(balance_transaction),
        description=f"transfer for payout batch {batch.id}",
        dedupe_key=f"transfer:{batch.id}",
        stripe=_refs(balance_transaction, source=transfer),
    )


def _book_on_connected_account(
    session: Session,
    balance_transaction: BalanceTransaction,
    stripe_account: str,
    *,
    kind: str,
    dedupe_key: str,
    description: str,
) -> Posting:
    """Mirror a connected account's balance transaction: its balance moves by the net, Stripe's
    fee to that account on its own line, and the gross is the carrier's money coming or going."""
    currency = balance_transaction.currency
    gross = balance_transaction.amount
    lines = _balance_side(stripe_account, balance_transaction, chart.connected_fees(stripe_account))
    funds = chart.carrier_funds(stripe_account)
    lines.append(
        credit(funds, Money(gross, currency))
        if gross > 0
        else debit(funds, Money(-gross, currency))
    )
    return ledger.post(
        session,
        kind=kind,
        lines=_positive(lines),
        occurred_at=_occurred_at(balance_transaction),
        description=description,
        dedupe_key=dedupe_key,
        stripe=_refs(balance_transaction, account=stripe_account),
    )


def book_transfer_received(
    session: Session,
    batch: PayoutBatch,
    balance_transaction: BalanceTransaction,
    *,
    stripe_account: str,
) -> Posting:
    """Connected side of a transfer: the carrier's balance receives it (a py_ payment)."""
    return _book_on_connected_account(
        session,
        balance_transaction,
        stripe_account,
        kind="payment",
        dedupe_key=f"transfer_received:{batch.id}",
        description=f"transfer for payout batch {batch.id} received",
    )


def book_payout(
    session: Session,
    batch: PayoutBatch,
    balance_transaction: BalanceTransaction,
    *,
    stripe_account: str,
) -> Posting:
    """A payout from the carrier's connected balance to their bank (instant payouts carry a
    fee, charged to the connected account)."""
    return _book_on_connected_account(
        session,
        balance_transaction,
        stripe_account,
        kind="payout",
        dedupe_key=f"payout:{batch.id}",
        description=f"payout for payout batch {batch.id}",
    )


def book_payout_failure(
    session: Session,
    batch: PayoutBatch,
    balance_transaction: BalanceTransaction,
    *,
    stripe_account: str,
) -> Posting:
    """A failed payout: the bank returned it, so the money is back on the connected balance."""
    return _book_on_connected_account(
        session,
        balance_transaction,
        stripe_account,
        kind="payout_failure",
        dedupe_key=f"payout_failure:{batch.id}",
        description=f"payout for payout batch {batch.id} failed",
    )
