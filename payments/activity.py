"""Which connected accounts saw activity in a time window (for the nightly reconciliation).

Activity is anything the reconciliation of that account would look at: a ledger posting on the
account, a cached Stripe balance transaction, or a stored Stripe event from it. Accounts with
none have nothing to reconcile, so the nightly job does not ask Stripe about them: with
thousands of carriers most are quiet on any given day.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from models import Carrier, Posting, StripeBalanceTransaction, WebhookEvent


def active_connected_accounts(session: Session, start: datetime, end: datetime) -> list[str]:
    """Carriers' connected accounts with activity in [start, end), sorted."""
    seen = union(
        select(Posting.stripe_account.label("account")).where(
            Posting.occurred_at >= start, Posting.occurred_at < end
        ),
        select(StripeBalanceTransaction.account.label("account")).where(
            StripeBalanceTransaction.created >= start, StripeBalanceTransaction.created < end
        ),
        select(WebhookEvent.stripe_account.label("account")).where(
            WebhookEvent.stripe_created >= start, WebhookEvent.stripe_created < end
        ),
    ).subquery()
    return list(
        session.scalars(
            select(Carrier.stripe_account_id)
            .where(Carrier.stripe_account_id.in_(select(seen.c.account)))
            .order_by(Carrier.stripe_account_id)
        )
    )
