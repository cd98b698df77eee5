"""Stripe webhook events: stored once by id, then processed into the same state as the jobs.

Handlers never trust the event's snapshot for money: they re-read the object from Stripe and
hand it to the same record_* function the job uses, so duplicates, reordering and a webhook
that overtakes the job's own response all converge. Events about money our system did not
initiate (a refund made in the Stripe dashboard, a dispute) are stored and left unbooked:
reconciliation reports them for finance to accept or investigate. An object that names our
rows but is not ours (payments.ownership) ends `out_of_band`, with the reason, and is raised for
finance; an event that cannot be processed at all ends `failed` with its reason, and is not
retried: only Stripe or the database being unavailable is worth another attempt.

An event is stored as Stripe sent it (its raw JSON, the one place raw Stripe JSON is kept); its
`data.object` is read into the record its handler needs by that record's `from_stripe`, the
same parser the gateway uses for Stripe's answers.

Most PaymentIntent events arrive after the charge job has recorded the outcome from Stripe's
answer (in the demo 6 to 9 in 10, by the machine's load). Such an event is stored as processed
when it is received (receive_event), without a job: its handler would only find the payment
final and stop there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models import Payment, PayoutBatch, Refund, Shipper, WebhookEvent
from models.db import transaction
from models.events import FINAL_EVENT_STATUSES, EventStatus
from models.payments import FINAL_PAYMENT_STATUSES, FINAL_REFUND_STATUSES, RefundStatus
from payments import charges, disputes, ownership, parties, payouts, refunds
from payments.errors import NotFound, StripeObjectUnreadable, StripeUnavailable
from payments.gateway import StripeGateway
from payments.gateway.reading import Data
from payments.gateway.records import Charge, Dispute, PaymentIntent, Payout
from payments.gateway.records import Refund as StripeRefund
from payments.gateway.records_events import Event
from payments.gateway.records_parties import Account

log = logging.getLogger(__name__)

# A handler reads the event's raw `data.object` into its record, then acts on the record.
Handler = Callable[[sessionmaker[Session], StripeGateway, Data], EventStatus]
R = TypeVar("R")


def store_event(
    session: Session, event: Event | Mapping[str, Any], *, processed: bool = False
) -> tuple[int, bool]:
    """Store an event unless we have it already (with `processed`, as processed already).
    Returns (row id, newly stored)."""
    if not isinstance(event, Event):
        event = Event.from_stripe(event)
    outcome = (
        {"status": EventStatus.PROCESSED, "processed_at": datetime.now(UTC)} if processed else {}
    )
    inserted = session.execute(
        insert(WebhookEvent)
        .values(
            stripe_event_id=event.id,
            type=event.type,
            stripe_account=event.account,
            stripe_created=datetime.fromtimestamp(event.created, UTC),
            payload=event.payload,
            **outcome,
        )
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(WebhookEvent.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return inserted, True
    existing = session.scalar(
        select(WebhookEvent.id).where(WebhookEvent.stripe_event_id == event.id)
    )
    assert existing is not None
    return existing, False


class Receipt(NamedTuple):
    row_id: int
    new: bool  # stored now, not a duplicate
    to_process: bool  # new, and a job must act on it


def receive_event(session: Session, event: Event | Mapping[str, Any]) -> Receipt:
    """Store a delivered (or polled) event once. A job must process it unless it is a
    duplicate or an event whose outcome we have recorded already (stored as processed)."""
    if not isinstance(event, Event):
        event = Event.from_stripe(event)
    recorded = _outcome_recorded(session, event)
    row_id, new = store_event(session, event, processed=recorded)
    return Receipt(row_id, new, new and not recorded)


def _outcome_recorded(session: Session, event: Event) -> bool:
    """A PaymentIntent event about one of our payments that is final already: where
    _payment_intent_event's first check would end (it finds the payment by this id)."""
    if HANDLERS.get(event.type) is not _ON_PAYMENT_INTENT:
        return False
    try:
        intent_id = event.data_object.get("id")
    except StripeObjectUnreadable:
        return False  # left to the handler, which parks it with the reason
    if not isinstance(intent_id, str):
        return False
    final = session.scalar(
        select(Payment.id)
        .where(
            Payment.stripe_payment_intent_id == intent_id,
            Payment.status.in_(FINAL_PAYMENT_STATUSES),
        )
        .limit(1)
    )
    return final is not None


def _metadata_id(obj: PaymentIntent | StripeRefund | Payout, key: str) -> int | None:
    raw = obj.metadata.get(key)
    return int(raw) if raw is not None and raw.isdigit() else None


def _reading(
    parse: Callable[[Data], R],
    handle: Callable[[sessionmaker[Session], StripeGateway, R], EventStatus],
) -> Handler:
    """A handler that reads `data.object` with the record's own parser, then handles it."""

    def handler(sessions: sessionmaker[Session], gateway: StripeGateway, obj: Data) -> EventStatus:
        return handle(sessions, gateway, parse(obj))

    return handler


def _payment_intent_event(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: PaymentIntent
) -> EventStatus:
    with transaction(sessions) as session:
        payment = session.scalars(
            select(Payment).where(Payment.stripe_payment_intent_id == obj.id)
        ).one_or_none()
        if payment is None:
            claimed_id = _metadata_id(obj, "payment_id")
            payment = session.get(Payment, claimed_id) if claimed_id is not None else None
            if payment is None:
                # Not ours: made outside our system, left for reconciliation.
                return EventStatus.IGNORED
        payment_id, stored_id = payment.id, payment.stripe_payment_intent_id
        ownership.keep_stored_id(stored_id, obj.id, f"payment {payment_id}")
        if payment.status in FINAL_PAYMENT_STATUSES:
            # The job (or an earlier event) already recorded the outcome.
            return EventStatus.PROCESSED
        expected = {
            "amount": payment.amount,
            "currency": payment.currency,
            "customer": session.scalar(
                select(Shipper.stripe_customer_id).where(Shipper.id == payment.shipper_id)
            ),
        }
    intent = gateway.retrieve_payment_intent(obj.id)
    ownership.claim(
        gateway,
        intent,
        what=f"payment {payment_id}",
        stored_id=stored_id,
        key=f"charge:{payment_id}",
        expected=expected,
    )
    with transaction(sessions) as session:
        charges.record_payment_intent(session, gateway, payment_id, intent)
    return EventStatus.PROCESSED


def _refund_event(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeRefund
) -> EventStatus:
    with transaction(sessions) as session:
        refund = session.scalars(
            select(Refund).where(Refund.stripe_refund_id == obj.id)
        ).one_or_none()
        if refund is None:
            claimed_id = _metadata_id(obj, "refund_id")
            refund = session.get(Refund, claimed_id) if claimed_id is not None else None
            if refund is None:
                return EventStatus.IGNORED
        refund_id, stored_id = refund.id, refund.stripe_refund_id
        ownership.keep_stored_id(stored_id, obj.id, f"refund {refund_id}")
        if refund.status in FINAL_REFUND_STATUSES:
            return EventStatus.PROCESSED
        expected = {
            "amount": refund.amount,
            "currency": refund.currency,
            "payment_intent": session.scalar(
                select(Payment.stripe_payment_intent_id).where(Payment.id == refund.payment_id)
            ),
        }
    stripe_refund = gateway.retrieve_refund(obj.id)
    ownership.claim(
        gateway,
        stripe_refund,
        what=f"refund {refund_id}",
        stored_id=stored_id,
        key=f"refund:{refund_id}",
        expected=expected,
    )
    with transaction(sessions) as session:
        refunds.record_refund(session, gateway, refund_id, stripe_refund)
    return EventStatus.PROCESSED


def _charge_refunded(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: Charge
) -> EventStatus:
    """charge.refunded names the charge: settle any of our refunds on it still in flight."""
    with transaction(sessions) as session:
        payment_id = session.scalar(select(Payment.id).where(Payment.stripe_charge_id == obj.id))
        pending = session.scalars(
            select(Refund).where(
                Refund.payment_id == payment_id,
                Refund.status == RefundStatus.PENDING,
                Refund.stripe_refund_id.is_not(None),
            )
        ).all()
        in_flight = [(r.id, r.stripe_refund_id) for r in pending]
    if payment_id is None or not in_flight:
        return EventStatus.IGNORED  # a refund we did not ask for stays unbooked, for reconciliation
    for refund_id, stripe_refund_id in in_flight:
        assert stripe_refund_id is not None
        stripe_refund = gateway.retrieve_refund(stripe_refund_id)
        with transaction(sessions) as session:
            refunds.record_refund(session, gateway, refund_id, stripe_refund)
    return EventStatus.PROCESSED


def _payout_event(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: Payout
) -> EventStatus:
    with transaction(sessions) as session:
        batch_id = session.scalar(
            select(PayoutBatch.id).where(PayoutBatch.stripe_payout_id == obj.id)
        ) or _metadata_id(obj, "batch_id")
        batch = session.get(PayoutBatch, batch_id) if batch_id is not None else None
        if batch is None:
            return EventStatus.IGNORED
        # Only the payout the job stored is acted on; the job records its own from its response.
        if batch.stripe_payout_id is not None:
            ownership.keep_stored_id(batch.stripe_payout_id, obj.id, f"payout batch {batch_id}")
        if batch.recovery_point not in ("payout_created", "transferred"):
            return EventStatus.IGNORED
        if batch.recovery_point == "transferred" and batch.stripe_payout_id is None:
            # The job has not recorded its own payout yet; it will, and finish from there.
            return EventStatus.IGNORED
    payouts.advance_batch(sessions, gateway, batch.id)
    return EventStatus.PROCESSED


def _account_updated(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: Account
) -> EventStatus:
    carrier = parties.refresh_connected_account(sessions, gateway, obj.id)
    return EventStatus.PROCESSED if carrier is not None else EventStatus.IGNORED


_ON_PAYMENT_INTENT = _reading(PaymentIntent.from_stripe, _payment_intent_event)
_ON_REFUND = _reading(StripeRefund.from_stripe, _refund_event)
_ON_PAYOUT = _reading(Payout.from_stripe, _payout_event)

HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _ON_PAYMENT_INTENT,
    "payment_intent.payment_failed": _ON_PAYMENT_INTENT,
    "payment_intent.processing": _ON_PAYMENT_INTENT,
    "payment_intent.canceled": _ON_PAYMENT_INTENT,
    "payment_intent.requires_action": _ON_PAYMENT_INTENT,
    "charge.refunded": _reading(Charge.from_stripe, _charge_refunded),
    "refund.created": _ON_REFUND,
    "refund.updated": _ON_REFUND,
    "refund.failed": _ON_REFUND,
    "charge.refund.updated": _ON_REFUND,
    "payout.paid": _ON_PAYOUT,
    "payout.failed": _ON_PAYOUT,
    "payout.canceled": _ON_PAYOUT,
    "account.updated": _reading(Account.from_stripe, _account_updated),
    # Disputes: booked as they happen and listed for finance (payments/disputes.py).
    **dict.fromkeys(disputes.EVENT_TYPES, _reading(Dispute.from_stripe, disputes.record_dispute)),
}


def process_event(
    sessions: sessionmaker[Session], gateway: StripeGateway, event_row_id: int
) -> EventStatus:
    """Act on a stored event once; return its final status. Raises only what is transient
    (Stripe or the database unavailable), for the job to retry."""
    with transaction(sessions) as session:
        event = session.get(WebhookEvent, event_row_id)
        if event is None:
            raise NotFound(f"no webhook event {event_row_id}")
        if event.status in FINAL_EVENT_STATUSES:
            return event.status
        event.attempts += 1
        event_id, event_type, payload = event.stripe_event_id, event.type, event.payload
    handler = HANDLERS.get(event_type)
    error: str | None = None
    try:
        # An unreadable object (StripeObjectUnreadable) is final like any other failure here.
        status = (
            handler(sessions, gateway, Event.from_stripe(payload).data_object)
            if handler
            else EventStatus.IGNORED
        )
    except ownership.NotOurs as not_ours:
        status, error = EventStatus.OUT_OF_BAND, str(not_ours)
        log.warning(
            "out-of-band Stripe activity for finance: %s",
            error,
            extra={"event_id": event_id, "event_type": event_type},
        )
    except (StripeUnavailable, OperationalError, IntegrityError):
        raise  # unavailable, or a race with the job that the next attempt converges
    except DBAPIError as db_error:
        if db_error.connection_invalidated:
            raise
        status, error = EventStatus.FAILED, _reason(db_error)
    except Exception as failure:  # a final failure: parked with its reason, never retried
        status, error = EventStatus.FAILED, _reason(failure)
    if status == EventStatus.FAILED:
        log.error(
            "webhook event parked as failed: %s",
            error,
            extra={"event_id": event_id, "event_type": event_type},
        )
    with transaction(sessions) as session:
        event = session.get(WebhookEvent, event_row_id, with_for_update=True)
        assert event is not None
        event.status = status
        event.error = error
        event.processed_at = datetime.now(UTC)
        return status


def _reason(error: BaseException) -> str:
    # The class and the first line only: driver messages may quote the statement's values.
    first_line = (str(error).splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}"[:500]
