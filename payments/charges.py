"""Charging a shipper for a load: a Payment row driven to Stripe's final word.

The flow is a small state machine on the row (recovery points):
  started ─create PaymentIntent (key charge:<id>)─▶ intent_created ─▶ finished
  finished ─(new payment method asked for)─▶ confirming ─confirm─▶ intent_created ─▶ finished
Each step commits before the next; a step repeated after a crash repeats the same Stripe
request with the same idempotency key, which Stripe answers with the first response.
The job and the webhook both end in record_payment_intent, which books the charge once.

A repeated attempt never trusts the key alone: Stripe replays a 500 for its key and forgets
keys after 24 hours, so before creating again the job looks the PaymentIntent up among the
customer's (metadata payment_id, payments/gateway/lookups.py) and records what it finds. A
row whose outcome cannot be settled is parked for a person (payments/attention.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Carrier, Load, Payment, Shipper
from models.db import transaction
from models.money import Money
from models.payments import ENDED_PAYMENT_STATUSES, FINAL_PAYMENT_STATUSES, PaymentStatus
from payments import attention, bank_debits, bookings, ownership, parties
from payments.errors import (
    InvalidOperation,
    LoadAlreadyCharged,
    NotFound,
    PaymentDeclined,
    StripeRequestRefused,
    Unsettled,
)
from payments.gateway import StripeGateway
from payments.gateway.records import PaymentIntent


def create_payment(
    session: Session,
    *,
    shipper_id: int,
    carrier_id: int,
    load_reference: str,
    amount: Money,
    carrier_amount: int,
    payment_method: str | None = None,
    confirm: bool = True,
    description: str | None = None,
    request_id: str | None = None,
    additional_charge_reason: str | None = None,
) -> Payment:
    """Accept a payment for a load. The caller commits, then enqueues advance_payment.

    One live payment per load (the database enforces it too): another only once the earlier
    ones failed or were canceled, or with an additional_charge_reason."""
    if amount.amount <= 0:
        raise InvalidOperation("amount must be a positive integer in minor units")
    if not 0 <= carrier_amount <= amount.amount:
        raise InvalidOperation("carrier_amount must be between 0 and amount")
    if session.get(Shipper, shipper_id) is None:
        raise NotFound(f"no customer {shipper_id}")
    if session.get(Carrier, carrier_id) is None:
        raise NotFound(f"no carrier {carrier_id}")
    load = session.scalars(
        select(Load).where(Load.external_id == load_reference).with_for_update()
    ).one_or_none()
    if load is None:
        load = Load(external_id=load_reference, shipper_id=shipper_id, carrier_id=carrier_id)
        session.add(load)
        session.flush()
    elif load.shipper_id != shipper_id:
        raise InvalidOperation(f"load {load_reference} belongs to another customer")
    if additional_charge_reason is None:
        live = live_payment_of_load(session, load.id)
        if live is not None:
            raise LoadAlreadyCharged(
                f"load {load_reference} already has payment {live} (not failed or canceled);"
                " send additional_charge_reason to charge it again",
                payment_id=live,
            )
    payment = Payment(
        load_id=load.id,
        shipper_id=shipper_id,
        carrier_id=carrier_id,
        amount=amount.amount,
        currency=amount.currency,
        carrier_amount=carrier_amount,
        payment_method=payment_method,
        confirm=confirm,
        description=description,
        request_id=request_id,
        additional_charge_reason=additional_charge_reason,
        status=PaymentStatus.PENDING,
        recovery_point="started",
    )
    session.add(payment)
    session.flush()
    return payment


def live_payment_of_load(session: Session, load_id: int) -> int | None:
    """The load's payment that counts against charging it again, if any."""
    return session.scalar(
        select(Payment.id)
        .where(
            Payment.load_id == load_id,
            Payment.status.not_in(ENDED_PAYMENT_STATUSES),
            Payment.additional_charge_reason.is_(None),
        )
        .limit(1)
    )


def request_confirmation(session: Session, payment_id: int, payment_method: str) -> Payment:
    """Ask for the PaymentIntent to be confirmed with a (new) payment method."""
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    if payment.status in FINAL_PAYMENT_STATUSES:
        raise InvalidOperation(f"payment {payment_id} is already {payment.status}")
    payment.payment_method = payment_method
    payment.confirm = True
    if payment.stripe_payment_intent_id is not None:
        payment.recovery_point = "confirming"
    elif payment.recovery_point == "finished":
        # Refused before Stripe created anything (Stripe keeps no idempotent result for a
        # request that failed validation): start over with the new method.
        payment.recovery_point = "started"
        payment.status = PaymentStatus.PENDING
        payment.failure_code = payment.failure_message = None
    return payment


def advance_payment(
    sessions: sessionmaker[Session], gateway: StripeGateway, payment_id: int
) -> str:
    """Drive one payment as far as Stripe lets it go now; return its status.

    Safe to run any number of times, concurrently too. StripeUnavailable propagates so the
    caller (a job) retries later.
    """
    with transaction(sessions) as session:
        # One round trip: count the attempt and read what the Stripe request needs.
        row = session.execute(
            update(Payment)
            .where(
                Payment.id == payment_id,
                Payment.recovery_point != "finished",
                Payment.attention_at.is_(None),
                Payment.shipper_id == Shipper.id,
            )
            .values(attempts=Payment.attempts + 1)
            .returning(
                Payment.recovery_point,
                Payment.stripe_payment_intent_id,
                Payment.amount,
                Payment.currency,
                Payment.payment_method,
                Payment.confirm,
                Payment.load_id,
                Payment.description,
                Payment.attempts,
                Payment.shipper_id,
                Shipper.stripe_customer_id,
            )
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if row is None:
            payment = session.get(Payment, payment_id)
            if payment is None:
                raise NotFound(f"no payment {payment_id}")
            return payment.status  # finished already, or parked for a person
    step, intent_id = row.recovery_point, row.stripe_payment_intent_id
    # An earlier attempt may have reached Stripe with an outcome we never saw.
    repeated = row.attempts > 1
    try:
        if step == "started":
            # Every PaymentIntent belongs to the shipper's customer, so it can be listed again.
            customer = row.stripe_customer_id or parties.ensure_customer(
                sessions, gateway, row.shipper_id
            )
            found = _existing_intent(gateway, payment_id, row, customer) if repeated else None
            intent = found or gateway.create_payment_intent(
                payment_id,
                amount=row.amount,
                currency=row.currency,
                customer=customer,
                payment_method=row.payment_method,
                confirm=row.confirm,
                transfer_group=f"load:{row.load_id}",
                description=row.description,
                metadata={"payment_id": str(payment_id), "load_id": str(row.load_id)},
            )
        elif step == "confirming" and intent_id and row.payment_method:
            current = gateway.retrieve_payment_intent(intent_id) if repeated else None
            if current is not None and current.status not in AWAITING_CONFIRMATION:
                intent = current  # the confirmation went through before
            else:
                intent = gateway.confirm_payment_intent(
                    payment_id, intent_id, payment_method=row.payment_method
                )
        else:
            assert intent_id is not None, f"payment {payment_id} at {step} has no PaymentIntent"
            intent = gateway.retrieve_payment_intent(intent_id)
    except PaymentDeclined as declined:
        return _record_failure(
            sessions,
            payment_id,
            code=declined.decline_code or declined.code,
            message=str(declined),
            intent_id=declined.payment_intent_id,
        )
    except StripeRequestRefused as refused:
        return _record_failure(
            sessions, payment_id, code=refused.code or "invalid_request", message=str(refused)
        )
    except Unsettled as unsettled:
        attention.park_row(sessions, "payment", payment_id, str(unsettled))
        return _status(sessions, payment_id)
    with transaction(sessions) as session:
        return record_payment_intent(session, gateway, payment_id, intent)


AWAITING_CONFIRMATION = frozenset({"requires_payment_method", "requires_confirmation"})


def _existing_intent(
    gateway: StripeGateway, payment_id: int, row: Any, customer: str
) -> PaymentIntent | None:
    """The PaymentIntent Stripe holds for this payment (expanded), None when it certainly
    holds none; Unsettled when what it holds is not plainly ours."""
    found = gateway.find_payment_intents(payment_id, customer=customer)
    if not found:
        return None
    if len(found) > 1:
        raise Unsettled(
            f"Stripe holds {len(found)} PaymentIntents marked payment_id={payment_id}: "
            + ", ".join(pi.id for pi in found)
        )
    intent = found[0]
    if (intent.amount, intent.currency) != (row.amount, row.currency):
        raise Unsettled(
            f"PaymentIntent {intent.id} marked payment_id={payment_id} is for "
            f"{intent.amount} {intent.currency}, not {row.amount} {row.currency}"
        )
    return gateway.retrieve_payment_intent(intent.id)


def _status(sessions: sessionmaker[Session], payment_id: int) -> str:
    with transaction(sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return payment.status


def _record_failure(
    sessions: sessionmaker[Session],
    payment_id: int,
    *,
    code: str | None,
    message: str,
    intent_id: str | None = None,
) -> str:
    with transaction(sessions) as session:
        payment = session.get(Payment, payment_id, with_for_update=True)
        assert payment is not None
        if payment.status in FINAL_PAYMENT_STATUSES:
            return payment.status
        if intent_id:
            payment.stripe_payment_intent_id = intent_id
        payment.status = PaymentStatus.FAILED
        payment.failure_code = code
        payment.failure_message = message
        payment.recovery_point = "finished"
        return payment.status


def with_balance_transactions(gateway: StripeGateway, intent: PaymentIntent) -> PaymentIntent:
    """The intent as the booking rules read it: its charge with the balance transactions
    expanded (what Stripe moved; for a returned bank debit, what it took back). Our own requests
    ask for that (INTENT_EXPAND); another copy (a card error's, a webhook's) is fetched again."""
    status, charge = intent.status, intent.latest_charge
    books = status == "succeeded" or (
        status in bank_debits.STAGES and bank_debits.is_bank_debit(intent.latest_charge_id)
    )
    expanded = charge is not None and charge.balance_transaction is not None
    failure_unexpanded = (
        charge is not None
        and charge.failure_balance_transaction_id is not None
        and charge.failure_balance_transaction is None
    )
    if books and (not expanded or failure_unexpanded):
        return gateway.retrieve_payment_intent(intent.id)
    return intent


def record_payment_intent(
    session: Session, gateway: StripeGateway, payment_id: int, intent: PaymentIntent
) -> str:
    """Bring the row in line with Stripe's PaymentIntent; book the charge once it succeeded.

    Called by the job with its own response and by the webhook handler with a fresh copy:
    whichever comes first does the work, the other finds it done.
    """
    # Before the row is read: no transaction or lock is held across the Stripe call.
    intent = with_balance_transactions(gateway, intent)
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    if payment.status in FINAL_PAYMENT_STATUSES or payment.attention_at is not None:
        return payment.status  # done, or parked: a person decides, not a webhook
    stored = payment.stripe_payment_intent_id
    ownership.keep_stored_id(stored, intent.id, f"payment {payment_id}")
    payment.stripe_payment_intent_id = intent.id
    bank_debits.record_stage(session, payment, intent)
    status = intent.status
    error = intent.last_payment_error
    if status == "succeeded":
        charge = intent.latest_charge
        assert charge is not None and charge.balance_transaction is not None
        balance_transaction = charge.balance_transaction
        bookings.book_charge(session, payment, balance_transaction, payment_intent=intent.id)
        payment.stripe_charge_id = charge.id
        payment.stripe_balance_transaction_id = balance_transaction.id
        payment.status = PaymentStatus.SUCCEEDED
        payment.failure_code = payment.failure_message = None
        payment.recovery_point = "finished"
    elif status == "requires_payment_method" and error:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = error.decline_code or error.code
        payment.failure_message = error.message
        payment.recovery_point = "finished"
    else:
        payment.status = PaymentStatus(status)
        # Waiting on the customer (requires_action/confirmation) or on the bank (processing):
        # the webhook will tell us; nothing for the job to do until then.
        payment.recovery_point = "finished" if status != "processing" else "intent_created"
    return payment.status
