"""Refunding a payment, fully or in part: a Refund row driven to Stripe's final word.

  started ─create Refund (key refund:<id>)─▶ created ─▶ finished
A repeated attempt first lists the PaymentIntent's refunds for our marker (metadata refund_id)
and records what it finds, since the key alone cannot tell (a 500 replayed for it, a key
older than 24 hours); a row that cannot be settled is parked for a person.
The refundable amount is the payment's amount less every refund not failed or canceled, so
two refund requests racing each other cannot together exceed it (the payment row is locked).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Payment, Refund
from models.db import transaction
from models.payments import (
    ENDED_REFUND_STATUSES,
    FINAL_REFUND_STATUSES,
    PaymentStatus,
    RefundStatus,
)
from payments import attention, bookings, ownership
from payments.errors import InvalidOperation, NotFound, StripeRequestRefused, Unsettled
from payments.gateway import StripeGateway
from payments.gateway.records import Refund as StripeRefund

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def refundable(session: Session, payment: Payment) -> int:
    reserved = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status.not_in(ENDED_REFUND_STATUSES)
        )
    )
    return payment.amount - int(reserved or 0)


def request_refund(
    session: Session,
    payment_id: int,
    *,
    amount: int | None = None,
    reason: str | None = None,
    request_id: str | None = None,
) -> Refund:
    """Accept a refund of `amount` (all that is refundable when None). Caller commits, then
    enqueues advance_refund."""
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    if payment.status != PaymentStatus.SUCCEEDED:
        raise InvalidOperation(
            f"payment {payment_id} is {payment.status}; only a succeeded payment can be refunded"
        )
    if reason is not None and reason not in REFUND_REASONS:
        raise InvalidOperation(f"reason must be one of {', '.join(REFUND_REASONS)}")
    available = refundable(session, payment)
    amount = available if amount is None else amount
    if amount <= 0:
        raise InvalidOperation(f"payment {payment_id} has nothing left to refund")
    if amount > available:
        raise InvalidOperation(
            f"refund of {amount} exceeds the refundable amount {available} of payment {payment_id}"
        )
    refund = Refund(
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        request_id=request_id,
        status=RefundStatus.PENDING,
        recovery_point="started",
    )
    session.add(refund)
    session.flush()
    return refund


def advance_refund(sessions: sessionmaker[Session], gateway: StripeGateway, refund_id: int) -> str:
    """Drive one refund as far as it goes now; return its status. Safe to repeat."""
    with transaction(sessions) as session:
        refund = session.get(Refund, refund_id)
        if refund is None:
            raise NotFound(f"no refund {refund_id}")
        if refund.recovery_point == "finished" or refund.attention_at is not None:
            return refund.status
        refund.attempts += 1
        repeated = refund.attempts > 1
        payment = session.get(Payment, refund.payment_id)
        assert payment is not None and payment.stripe_payment_intent_id is not None
        intent_id, amount, reason = payment.stripe_payment_intent_id, refund.amount, refund.reason
        currency = refund.currency
        stripe_refund_id = refund.stripe_refund_id
    try:
        if stripe_refund_id is None:
            found = (
                _existing_refund(gateway, refund_id, intent_id, amount, currency)
                if repeated
                else None
            )
            stripe_refund = found or gateway.create_refund(
                refund_id, payment_intent=intent_id, amount=amount, reason=reason
            )
        else:
            stripe_refund = gateway.retrieve_refund(stripe_refund_id)
    except Unsettled as unsettled:
        attention.park_row(sessions, "refund", refund_id, str(unsettled))
        with transaction(sessions) as session:
            parked = session.get(Refund, refund_id)
            assert parked is not None
            return parked.status
    except StripeRequestRefused as refused:
        with transaction(sessions) as session:
            refund = session.get(Refund, refund_id, with_for_update=True)
            assert refund is not None
            refund.status = RefundStatus.FAILED
            refund.failure_reason = str(refused)
            refund.recovery_point = "finished"
            return refund.status
    with transaction(sessions) as session:
        return record_refund(session, gateway, refund_id, stripe_refund)


def _existing_refund(
    gateway: StripeGateway, refund_id: int, intent_id: str, amount: int, currency: str
) -> StripeRefund | None:
    """Stripe's refund for this row, None when it certainly has none (list filters are
    immediately consistent); Unsettled when what it holds is not plainly ours."""
    found = gateway.find_refunds(refund_id, payment_intent=intent_id)
    if not found:
        return None
    if len(found) > 1 or (found[0].amount, found[0].currency) != (amount, currency):
        raise Unsettled(
            f"Stripe's refunds marked refund_id={refund_id} do not match {amount} {currency}: "
            + ", ".join(f"{r.id} {r.amount} {r.currency}" for r in found)
        )
    return found[0]


def with_balance_transaction(gateway: StripeGateway, stripe_refund: StripeRefund) -> StripeRefund:
    """The refund as the booking rules read it: a succeeded one with its balance transaction
    expanded. Our own requests ask for that; another copy (a list's) is fetched again."""
    if stripe_refund.status == "succeeded" and stripe_refund.balance_transaction is None:
        return gateway.retrieve_refund(stripe_refund.id)
    return stripe_refund


def record_refund(
    session: Session, gateway: StripeGateway, refund_id: int, stripe_refund: StripeRefund
) -> str:
    """Bring the row in line with Stripe's Refund; book it once it succeeded (job or webhook)."""
    # Before the row is read: no transaction or lock is held across the Stripe call.
    stripe_refund = with_balance_transaction(gateway, stripe_refund)
    refund = session.get(Refund, refund_id, with_for_update=True)
    if refund is None:
        raise NotFound(f"no refund {refund_id}")
    if refund.status in FINAL_REFUND_STATUSES or refund.attention_at is not None:
        return refund.status  # done, or parked: a person decides, not a webhook
    ownership.keep_stored_id(refund.stripe_refund_id, stripe_refund.id, f"refund {refund_id}")
    refund.stripe_refund_id = stripe_refund.id
    status = stripe_refund.status
    if status == "succeeded":
        balance_transaction = stripe_refund.balance_transaction
        payment = session.get(Payment, refund.payment_id, with_for_update=True)
        assert payment is not None and balance_transaction is not None
        bookings.book_refund(session, refund, payment, balance_transaction)
        refund.stripe_balance_transaction_id = balance_transaction.id
        payment.amount_refunded += refund.amount
        refund.status = RefundStatus.SUCCEEDED
        refund.recovery_point = "finished"
    elif status in ("failed", "canceled"):
        refund.status = RefundStatus(status)
        refund.failure_reason = stripe_refund.failure_reason
        refund.recovery_point = "finished"
    else:
        refund.status = RefundStatus.PENDING
        refund.recovery_point = "created"
    return refund.status
