"""Webhooks and jobs converge: duplicates, reordering and webhooks that overtake the job's own
response all end in the same rows and the same, single, ledger postings."""

from __future__ import annotations

import random
from typing import Any

import stripe
from sqlalchemy import func, select

from models import Carrier, Payment, PayoutBatch, Posting, Shipper, WebhookEvent
from models.db import transaction
from models.money import Money
from payments import charges, ledger, payouts, webhook_events

from .conftest import Market


def client(market: Market) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_midway", base_addresses={"api": market.sim_url})


def all_events(market: Market, account: str | None = None) -> list[dict[str, Any]]:
    options: Any = {"stripe_account": account} if account else {}
    page = client(market).v1.events.list(params={"limit": 100}, options=options)
    return [event.to_dict() for event in page.data]


def deliver(market: Market, events: list[dict[str, Any]]) -> list[str]:
    statuses = []
    for event in events:
        with transaction(market.sessions) as session:
            row_id, _ = webhook_events.store_event(session, event)
        statuses.append(webhook_events.process_event(market.sessions, market.gateway, row_id))
    return statuses


def count(market: Market, model: Any) -> int:
    with transaction(market.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_webhook_overtakes_a_job_that_died_after_stripe_succeeded(market: Market) -> None:
    payment_id = market.new_payment()
    with transaction(market.sessions) as session:
        payment: Any = session.get(Payment, payment_id)
        request = dict(
            amount=payment.amount,
            currency=payment.currency,
            # What the job sends: our marker's checks include the customer.
            customer=session.get(Shipper, payment.shipper_id).stripe_customer_id,  # type: ignore[union-attr]
            payment_method=payment.payment_method,
            confirm=True,
            transfer_group=f"load:{payment.load_id}",
            description=None,
            metadata={"payment_id": str(payment_id)},
        )
    # The job's Stripe call succeeded, then the worker died before recording anything.
    market.gateway.create_payment_intent(payment_id, **request)  # type: ignore[arg-type]
    events = [e for e in all_events(market) if e["type"].startswith("payment_intent.")]
    assert "processed" in deliver(market, events)
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment.status == "succeeded"
    # The retried job finds the work done: same PaymentIntent, no second posting.
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert count(market, Posting) == 1
    assert len(client(market).v1.payment_intents.list().data) == 1


def test_duplicated_and_reordered_events_are_stored_and_booked_once(market: Market) -> None:
    for _ in range(3):
        market.paid()
    events = all_events(market)
    shuffled = events * 2
    random.Random(7).shuffle(shuffled)
    deliver(market, shuffled)
    assert count(market, WebhookEvent) == len(events)
    assert count(market, Posting) == 3
    with transaction(market.sessions) as session:
        assert ledger.trial_balance(session) == {"usd": 0}


def test_an_out_of_band_refund_is_stored_but_not_booked(market: Market) -> None:
    payment_id = market.paid()
    with transaction(market.sessions) as session:
        intent = session.get(Payment, payment_id).stripe_payment_intent_id  # type: ignore[union-attr]
    # Someone refunds in the Stripe dashboard: our system did not initiate it.
    client(market).v1.refunds.create(params={"payment_intent": intent, "amount": 500})
    refund_events = [e for e in all_events(market) if "refund" in e["type"]]
    assert refund_events
    assert set(deliver(market, refund_events)) == {"ignored"}
    assert count(market, Posting) == 1  # only the charge
    with transaction(market.sessions) as session:
        stored = session.scalars(select(WebhookEvent.type)).all()
        assert set(stored) == {e["type"] for e in refund_events}


def test_payout_failed_webhook_fails_the_batch_once(market: Market) -> None:
    market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        batch_id = payouts.request_transfer(session, market.carrier_id, Money(8000, "usd")).id
    payouts.advance_batch(market.sessions, market.gateway, batch_id)
    with transaction(market.sessions) as session:
        payout_batch = payouts.request_payout(
            session, market.carrier_id, Money(8000, "usd"), "standard"
        )
        payout_id = payout_batch.id
    payouts.advance_batch(market.sessions, market.gateway, payout_id)
    with transaction(market.sessions) as session:
        po = session.get(PayoutBatch, payout_id).stripe_payout_id  # type: ignore[union-attr]
    market.control(f"payouts/{po}/fail", {"failure_code": "no_account"})
    events = [e for e in all_events(market, market.carrier_account) if e["type"] == "payout.failed"]
    assert len(events) == 1 and events[0]["account"] == market.carrier_account
    assert deliver(market, events + events) == ["processed", "processed"]
    assert payouts.advance_batch(market.sessions, market.gateway, payout_id) == "failed"
    with transaction(market.sessions) as session:
        kinds = session.scalars(select(Posting.kind).order_by(Posting.id)).all()
        assert kinds.count("payout_failure") == 1
        assert payouts.funds_on_connected_account(session, market.carrier_account, "usd") == 8000


def test_account_updated_sets_the_carriers_flags(market: Market) -> None:
    with transaction(market.sessions) as session:
        carrier = session.get(Carrier, market.carrier_id)
        assert carrier is not None
        carrier.payouts_enabled = False
    events = [
        e for e in all_events(market, market.carrier_account) if e["type"] == "account.updated"
    ]
    assert events, "completing onboarding emits account.updated"
    assert deliver(market, events[:1]) == ["processed"]
    with transaction(market.sessions) as session:
        carrier = session.get(Carrier, market.carrier_id)
        assert carrier is not None and carrier.payouts_enabled and carrier.charges_enabled


def test_a_dispute_is_booked_once_and_recorded_for_finance(market: Market) -> None:
    payment_id = market.new_payment(payment_method="pm_card_createDispute")
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    disputes = [e for e in all_events(market) if e["type"].startswith("charge.dispute.")]
    assert {e["type"] for e in disputes} >= {"charge.dispute.created"}
    # Twice and newest first: the withdrawal is still booked once (payments/disputes.py).
    assert set(deliver(market, disputes[::-1] + disputes)) == {"processed"}
    assert count(market, Posting) == 2  # the charge and the dispute's withdrawal
    with transaction(market.sessions) as session:
        stored = session.scalars(
            select(WebhookEvent).where(WebhookEvent.type == "charge.dispute.created")
        ).one()
        assert stored.payload["data"]["object"]["object"] == "dispute"
