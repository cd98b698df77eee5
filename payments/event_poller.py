"""Fetch Stripe events that webhooks did not deliver (endpoint down, delivery given up).

For the platform and each connected account worth asking about, list events created since the
newest one we hold for that account (less an overlap: events sharing a second, or listed late),
store them by id like a webhook would (payments.webhook_events.receive_event), and return the
new rows that need processing so the caller can enqueue it. Storing is idempotent, so overlap
and a concurrent webhook are harmless. Polling every connected account every minute would not
scale to thousands of carriers, so only accounts with something pending are asked: a payout
awaiting its outcome, or onboarding not finished (account.updated). Everything else is also
caught by the sweeper, which re-drives unfinished rows by reading Stripe directly.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models import Carrier, PayoutBatch, WebhookEvent
from models.db import transaction
from payments.gateway import StripeGateway
from payments.webhook_events import HANDLERS, receive_event

log = logging.getLogger(__name__)

OVERLAP_S = 300
FIRST_LOOKBACK_S = 86_400  # an account we never heard from: look one day back
MAX_PAGES = 20
MAX_CONNECTED_ACCOUNTS = 50
EVENT_TYPES = sorted(HANDLERS)


def accounts_to_poll(session: Session, limit: int = MAX_CONNECTED_ACCOUNTS) -> list[str | None]:
    """None (the platform) and the connected accounts with something pending."""
    pending_payout = select(PayoutBatch.carrier_id).where(
        PayoutBatch.recovery_point.in_(("transferred", "payout_created"))
    )
    accounts = session.scalars(
        select(Carrier.stripe_account_id)
        .where(
            Carrier.stripe_account_id.is_not(None),
            or_(Carrier.id.in_(pending_payout), Carrier.payouts_enabled.is_(False)),
        )
        .order_by(Carrier.id)
        .limit(limit)
    ).all()
    return [None, *accounts]


def _cursor(session: Session, account: str | None, now: int) -> int:
    where = (
        WebhookEvent.stripe_account.is_(None)
        if account is None
        else WebhookEvent.stripe_account == account
    )
    newest = session.scalar(select(func.max(WebhookEvent.stripe_created)).where(where))
    if newest is None:
        return now - FIRST_LOOKBACK_S
    return int(newest.timestamp()) - OVERLAP_S


def poll_account(
    sessions: sessionmaker[Session], gateway: StripeGateway, account: str | None, now: int
) -> list[int]:
    """Store the account's events we do not have yet; return the ids of the new rows that
    need processing."""
    with sessions() as session:
        created_gt = _cursor(session, account, now)
    new_ids: list[int] = []
    starting_after: str | None = None
    for _ in range(MAX_PAGES):
        filters: dict[str, Any] = {"types": EVENT_TYPES}
        if starting_after:
            filters["starting_after"] = starting_after
        page = gateway.list_events(created_gt=created_gt, account=account, **filters)
        with transaction(sessions) as session:
            for event in page.data:
                receipt = receive_event(session, event)
                if receipt.to_process:
                    new_ids.append(receipt.row_id)
        if not page.has_more or not page.data:
            break
        starting_after = page.data[-1].id
    return new_ids


def poll(
    sessions: sessionmaker[Session], gateway: StripeGateway, now: int | None = None
) -> list[int]:
    """Poll the platform and the pending connected accounts; return the ids of the new event
    rows that need processing."""
    now = int(datetime.now(UTC).timestamp()) if now is None else now
    with sessions() as session:
        accounts = accounts_to_poll(session)
    new_ids: list[int] = []
    for account in accounts:
        new_ids += poll_account(sessions, gateway, account, now)
    if new_ids:
        log.info("event poller found %d events that webhooks had not delivered", len(new_ids))
    return new_ids
