"""Stripe webhook events: stored once by id, then processed into the same state as the jobs.

Handlers never trust the event's snapshot for money: they re-read the object from Stripe and
hand it to the same record_* function the job uses, so duplicates, reordering and a webhook
that overtakes the job's own response all converge. Events about money our system did not
initiate (a refund made in the Stripe dashboard, a dispute) are stored and left unbooked:
reconciliation reports them for finance to accept or investigate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models import Payment, PayoutBatch, Refund, WebhookEvent
from models.db import transaction
from payments import charges, disputes, parties, payouts, refunds
from payments.errors import NotFound
from payments.gateway import StripeGateway

StripeJSON = dict[str, Any]
Handler = Callable[[sessionmaker[Session], StripeGateway, StripeJSON], str]


def store_event(session: Session, event: StripeJSON) -> tuple[int, bool]:
    """Store an event unless we have it already. Returns (row id, newly stored)."""
    inserted = session.execute(
        insert(WebhookEvent)
        .values(
            stripe_event_id=event["id"],
            type=event["type"],
            stripe_account=event.get("account"),
            stripe_created=datetime.fromtimestamp(int(event["created"]), UTC),
            payload=event,
        )
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(WebhookEvent.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return inserted, True
    existing = session.scalar(
        select(WebhookEvent.id).where(WebhookEvent.stripe_event_id == event["id"])
    )
    assert existing is not None
    return existing, False


def _metadata_id(obj: StripeJSON, key: str) -> int | None:
    raw = (obj.get("metadata") or {}).get(key)
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _payment_intent_event(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeJSON
) -> str:
    with transaction(sessions) as session:
        payment_id = session.scalar(
            select(Payment.id).where(Payment.stripe_payment_intent_id == obj["id"])
        ) or _metadata_id(obj, "payment_id")
        payment = session.get(Payment, payment_id) if payment_id is not None else None
        if payment is None:
            return "ignored"  # not ours: made outside our system, left for reconciliation
        if payment.status in charges.FINAL_STATUSES:
            return "processed"  # the job (or an earlier event) already recorded the outcome
    intent = gateway.retrieve_payment_intent(obj["id"])
    with transaction(sessions) as session:
        charges.record_payment_intent(session, gateway, payment.id, intent)
    return "processed"


def _refund_event(sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeJSON) -> str:
    with transaction(sessions) as session:
        refund_id = session.scalar(
            select(Refund.id).where(Refund.stripe_refund_id == obj["id"])
        ) or _metadata_id(obj, "refund_id")
        refund = session.get(Refund, refund_id) if refund_id is not None else None
        if refund is None:
            return "ignored"
        if refund.status in refunds.FINAL_STATUSES:
            return "processed"
    stripe_refund = gateway.retrieve_refund(obj["id"])
    with transaction(sessions) as session:
        refunds.record_refund(session, gateway, refund.id, stripe_refund)
    return "processed"


def _charge_refunded(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeJSON
) -> str:
    """charge.refunded names the charge: settle any of our refunds on it still in flight."""
    with transaction(sessions) as session:
        payment_id = session.scalar(select(Payment.id).where(Payment.stripe_charge_id == obj["id"]))
        pending = session.scalars(
            select(Refund).where(
                Refund.payment_id == payment_id,
                Refund.status == "pending",
                Refund.stripe_refund_id.is_not(None),
            )
        ).all()
        in_flight = [(r.id, r.stripe_refund_id) for r in pending]
    if payment_id is None or not in_flight:
        return "ignored"  # a refund we did not ask for stays unbooked, for reconciliation
    for refund_id, stripe_refund_id in in_flight:
        assert stripe_refund_id is not None
        stripe_refund = gateway.retrieve_refund(stripe_refund_id)
        with transaction(sessions) as session:
            refunds.record_refund(session, gateway, refund_id, stripe_refund)
    return "processed"


def _payout_event(sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeJSON) -> str:
    with transaction(sessions) as session:
        batch_id = session.scalar(
            select(PayoutBatch.id).where(PayoutBatch.stripe_payout_id == obj["id"])
        ) or _metadata_id(obj, "batch_id")
        batch = session.get(PayoutBatch, batch_id) if batch_id is not None else None
        if batch is None or batch.recovery_point not in ("payout_created", "transferred"):
            return "ignored"
        if batch.recovery_point == "transferred" and batch.stripe_payout_id is None:
            # The job has not recorded its own payout yet; it will, and finish from there.
            return "ignored"
    payouts.advance_batch(sessions, gateway, batch.id)
    return "processed"


def _account_updated(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeJSON
) -> str:
    carrier = parties.refresh_connected_account(sessions, gateway, obj["id"])
    return "processed" if carrier is not None else "ignored"


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_intent_event,
    "payment_intent.payment_failed": _payment_intent_event,
    "payment_intent.processing": _payment_intent_event,
    "payment_intent.canceled": _payment_intent_event,
    "payment_intent.requires_action": _payment_intent_event,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "refund.failed": _refund_event,
    "charge.refund.updated": _refund_event,
    "payout.paid": _payout_event,
    "payout.failed": _payout_event,
    "payout.canceled": _payout_event,
    "account.updated": _account_updated,
    # Disputes: booked as they happen and listed for finance (payments/disputes.py).
    **dict.fromkeys(disputes.EVENT_TYPES, disputes.record_dispute),
}


def process_event(
    sessions: sessionmaker[Session], gateway: StripeGateway, event_row_id: int
) -> str:
    """Act on a stored event once; return its status (processed or ignored)."""
    with transaction(sessions) as session:
        event = session.get(WebhookEvent, event_row_id)
        if event is None:
            raise NotFound(f"no webhook event {event_row_id}")
        if event.status in ("processed", "ignored"):
            return event.status
        event.attempts += 1
        event_type, obj = event.type, event.payload["data"]["object"]
    handler = HANDLERS.get(event_type)
    status = handler(sessions, gateway, obj) if handler else "ignored"
    with transaction(sessions) as session:
        event = session.get(WebhookEvent, event_row_id, with_for_update=True)
        assert event is not None
        event.status = status
        event.processed_at = datetime.now(UTC)
        return status
