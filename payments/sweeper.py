"""Find work that was accepted but has not moved for a while, so it can be enqueued again.

A row and the message that drives it are not written atomically (PostgreSQL and Redis are
two systems): the message may be lost to a Redis restart, or never sent if the process died
right after COMMIT. Every flow is idempotent, so re-enqueueing anything stale is safe; this
is the half of "after-commit send plus a sweeper" that makes an accepted payment unlosable.
Rows parked for a person (attention_at set, payments/attention.py) are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Carrier, Payment, PayoutBatch, Refund, Shipper, WebhookEvent
from models.events import EventStatus
from models.payments import PaymentStatus

# A bank debit in `processing` waits days for its bank (about 4 business days:
# https://docs.stripe.com/payments/ach-direct-debit/accept-a-payment); Stripe sends the outcome
# as a webhook, and the event poller fetches what a webhook missed. Read again from Stripe on
# every sweep, it would cost a request per debit per minute for days (the rate limit of a busy
# platform), so the sweeper looks at one only after this long without news.
PROCESSING_RECHECK_S = 6 * 3600


@dataclass(frozen=True)
class StuckWork:
    customers: list[int]
    accounts: list[int]
    payments: list[int]
    refunds: list[int]
    batches: list[int]
    events: list[int]

    def total(self) -> int:
        return sum(
            len(ids)
            for ids in (
                self.customers,
                self.accounts,
                self.payments,
                self.refunds,
                self.batches,
                self.events,
            )
        )


def find_stuck(session: Session, *, older_than_s: int, limit: int = 1000) -> StuckWork:
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=older_than_s)
    waiting_on_bank = now - timedelta(seconds=max(older_than_s, PROCESSING_RECHECK_S))

    def ids(query: object) -> list[int]:
        return list(session.scalars(query.limit(limit)))  # type: ignore[attr-defined]

    return StuckWork(
        customers=ids(
            select(Shipper.id).where(
                Shipper.stripe_customer_id.is_(None), Shipper.updated_at < cutoff
            )
        ),
        accounts=ids(
            select(Carrier.id).where(
                Carrier.recovery_point == "started", Carrier.updated_at < cutoff
            )
        ),
        payments=ids(
            select(Payment.id).where(
                Payment.recovery_point != "finished",
                Payment.attention_at.is_(None),
                Payment.updated_at < cutoff,
                or_(
                    Payment.status != PaymentStatus.PROCESSING,
                    Payment.updated_at < waiting_on_bank,
                ),
            )
        ),
        refunds=ids(
            select(Refund.id).where(
                Refund.recovery_point != "finished",
                Refund.attention_at.is_(None),
                Refund.updated_at < cutoff,
            )
        ),
        batches=ids(
            select(PayoutBatch.id).where(
                PayoutBatch.recovery_point != "finished",
                PayoutBatch.attention_at.is_(None),
                PayoutBatch.updated_at < cutoff,
            )
        ),
        events=ids(
            select(WebhookEvent.id).where(
                # `failed` is parked with its reason for a person, not retried.
                WebhookEvent.status == EventStatus.RECEIVED,
                WebhookEvent.received_at < cutoff,
            )
        ),
    )
