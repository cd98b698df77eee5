"""The minute sweep: stuck work re-enqueued, and Stripe events webhooks never delivered are
fetched, stored once and processed (stripe_sim here has no webhook endpoint at all)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from jobs import runtime, scheduled
from models import WebhookEvent
from models.db import transaction
from payments import event_poller, payout_batching, webhook_events

THRESHOLDS = {"usd": 10000}


def stored(sessions: Any) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(WebhookEvent.type, func.count()).group_by(WebhookEvent.type)
        ).all()
    return {kind: int(count) for kind, count in rows}


def test_events_webhooks_missed_are_fetched_once_and_converge(
    market: Any, broker: Any, queued: Any, scheduled_runs: Any
) -> None:
    carrier = market.carrier("Quiet Webhooks")
    market.pay(carrier, 12000)
    with transaction(market.sessions) as session:
        (batch_id,) = payout_batching.create_batches(session, date(2026, 3, 10), THRESHOLDS)[0]
    market.advance(batch_id)  # transferred, payout created: waiting for payout.paid
    market.settle()  # the bank pays; Stripe emits payout.paid on the connected account

    runtime.configure(sessions=market.sessions, gateway=market.gateway)
    try:
        scheduled.scheduled_sweep.fn("2026-03-10T03:01")
        first = stored(market.sessions)
        assert first.get("payment_intent.succeeded") == 1
        assert first.get("payout.paid") == 1
        webhook_jobs = [m.args[0] for m in queued("webhooks")]
        # The charge's event tells what the charge job recorded already: kept as processed,
        # with no job (webhook_events.receive_event); every other event gets one.
        with market.sessions() as session:
            unprocessed = session.scalars(
                select(WebhookEvent.id).where(WebhookEvent.status == "received")
            ).all()
            charge_event = session.scalar(
                select(WebhookEvent.status).where(WebhookEvent.type == "payment_intent.succeeded")
            )
        assert charge_event == "processed"
        assert sorted(webhook_jobs) == sorted(unprocessed)
        assert len(webhook_jobs) == sum(first.values()) - 1
        # The same minute again (a second scheduler): nothing; the next minute: nothing new.
        scheduled.scheduled_sweep.fn("2026-03-10T03:01")
        scheduled.scheduled_sweep.fn("2026-03-10T03:02")
        assert stored(market.sessions) == first
        assert len(queued("webhooks")) == len(webhook_jobs)
        assert [r.period for r in scheduled_runs("sweep")] == [
            "2026-03-10T03:01",
            "2026-03-10T03:02",
        ]
    finally:
        runtime.configure()
    # Processing the fetched events settles the batch exactly as the webhook would have.
    for row_id in webhook_jobs:
        webhook_events.process_event(market.sessions, market.gateway, row_id)
    (batch,) = market.batches()
    assert batch.status == "paid"


def test_only_accounts_with_something_pending_are_polled(market: Any) -> None:
    idle = market.carrier("Idle Carrier")
    onboarding = market.carrier("Half Onboarded", onboarded=False)
    busy = market.carrier("Busy Carrier")
    market.pay(busy, 10000)
    with transaction(market.sessions) as session:
        (batch_id,) = payout_batching.create_batches(session, date(2026, 3, 10), THRESHOLDS)[0]
    market.advance(batch_id)
    with market.sessions() as session:
        polled = event_poller.accounts_to_poll(session)
    assert polled == [None, market.accounts[onboarding], market.accounts[busy]]
    assert market.accounts[idle] not in polled
