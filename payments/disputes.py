"""Disputes (chargebacks) booked from Stripe's events as they happen, and listed for finance.

A dispute takes the disputed amount and Stripe's dispute fee from the balance at once
(`charge.dispute.funds_withdrawn`: an `adjustment` balance transaction, reporting category
`dispute`); a won dispute gives both back (`charge.dispute.funds_reinstated`)
(https://docs.stripe.com/disputes/how-disputes-work). Each balance transaction the dispute
lists is booked once (dedupe key `dispute:<txn>`), mirroring Stripe exactly: net on the
platform balance, the fee on `dispute_fees` with memo "fee", the gross on `disputes` — so the
nightly reconciliation matches it by balance transaction id and the day is clean when the
ledger agrees with Stripe. Only disputes on a charge of ours are booked; one on a charge we do
not know is listed for finance and left to reconciliation, never booked silently.

Events may come twice or out of order: the row keeps Stripe's latest word, except that a
closed dispute (won, lost) is never reopened by a late event about it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models import Payment
from models.db import transaction
from models.disputes import Dispute
from models.events import EventStatus
from payments import chart, ledger
from payments.adjustments import mirror_lines
from payments.gateway import StripeGateway
from payments.gateway.records import BalanceTransaction
from payments.gateway.records import Dispute as StripeDispute
from payments.ledger import StripeRefs

CLOSED = frozenset({"won", "lost", "warning_closed", "prevented"})
EVENT_TYPES = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
)


def _when(unix: int | None) -> datetime | None:
    return datetime.fromtimestamp(unix, UTC) if unix else None


def record_dispute(
    sessions: sessionmaker[Session], gateway: StripeGateway, obj: StripeDispute
) -> EventStatus:
    """The webhook handler of every dispute event: update the row, book its money."""
    account = obj.account
    txns = [
        txn
        if isinstance(txn, BalanceTransaction)
        else gateway.retrieve_balance_transaction(txn, account=account)
        for txn in obj.balance_transactions
    ]  # fetched before the transaction: no Stripe call while a row is locked
    with transaction(sessions) as session:
        payment_id = session.scalar(
            select(Payment.id).where(Payment.stripe_charge_id == obj.charge)
        )
        _upsert(session, obj, account, payment_id)
        if payment_id is not None:
            for txn in txns:
                book_dispute_transaction(session, obj, txn, account)
    return EventStatus.PROCESSED


def _upsert(
    session: Session, obj: StripeDispute, account: str | None, payment_id: int | None
) -> None:
    values = {
        "stripe_dispute_id": obj.id,
        "stripe_account": account,
        "stripe_charge_id": str(obj.charge),
        "stripe_payment_intent_id": obj.payment_intent,
        "payment_id": payment_id,
        "amount": obj.amount,
        "currency": obj.currency,
        "reason": obj.reason,
        "status": str(obj.status),
        "evidence_due_by": _when(obj.evidence_due_by),
        "stripe_created": _when(obj.created) or datetime.now(UTC),
    }
    statement = insert(Dispute).values(**values)
    update = {k: statement.excluded[k] for k in values if k != "stripe_dispute_id"}
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["stripe_dispute_id"],
            set_={**update, "updated_at": datetime.now(UTC)},
            # A late event never reopens a closed dispute.
            where=Dispute.status.not_in(CLOSED) | statement.excluded.status.in_(CLOSED),
        )
    )


def book_dispute_transaction(
    session: Session, dispute: StripeDispute, txn: BalanceTransaction, account: str | None
) -> ledger.Posting:
    """One balance transaction of a dispute (withdrawal or reinstatement), booked once."""
    stripe_account = account or chart.PLATFORM
    lines = mirror_lines(
        stripe_account,
        amount=txn.amount,
        fee=txn.fee,
        net=txn.net,
        currency=txn.currency,
        against=chart.DISPUTES,
        fee_account=chart.DISPUTE_FEES,
    )
    return ledger.post(
        session,
        kind=txn.type or "adjustment",
        lines=lines,
        occurred_at=datetime.fromtimestamp(txn.created, UTC),
        description=f"dispute {dispute.id} ({dispute.reason}) on {dispute.charge}",
        dedupe_key=f"dispute:{txn.id}",
        stripe=StripeRefs(
            balance_transaction=txn.id,
            source=dispute.id,
            payment_intent=dispute.payment_intent,
            account=account,
        ),
    )


def open_disputes(session: Session) -> list[Dispute]:
    """Disputes not closed yet, the soonest evidence deadline first."""
    return list(
        session.scalars(
            select(Dispute)
            .where(Dispute.status.not_in(CLOSED))
            .order_by(Dispute.evidence_due_by.asc().nulls_last(), Dispute.id)
        )
    )
