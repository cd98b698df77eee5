"""A Stripe object is ours only by an id we stored, or by our own marker with matching amount,
currency and customer: anything else naming our rows is out-of-band activity, never booked.

Stripe lets any integration on an account set any metadata
(https://docs.stripe.com/metadata), so `metadata.payment_id` proves nothing by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import LedgerLine, Payment, Posting, Refund, WebhookEvent
from models.db import transaction
from payments import charges, refunds

from .conftest import Market
from .test_webhook_convergence import all_events, client, count, deliver


def payment_row(market: Market, payment_id: int) -> Payment:
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        session.expunge(payment)
        return payment


def events_of(market: Market, intent_id: str, type_prefix: str) -> list[dict[str, Any]]:
    return [
        e
        for e in all_events(market)
        if e["type"].startswith(type_prefix) and e["data"]["object"]["id"] == intent_id
    ]


def foreign_intent(market: Market, payment_id: int, amount: int = 50) -> dict[str, Any]:
    """Another integration on the same Stripe account, copying our metadata."""
    intent = client(market).v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_bypassPending",
            "confirm": True,
            "payment_method_types": ["card"],
            "metadata": {"payment_id": str(payment_id)},
        }
    )
    assert intent.status == "succeeded"
    return intent.to_dict()


def out_of_band_reasons(market: Market) -> list[str]:
    with transaction(market.sessions) as session:
        return [
            e.error or ""
            for e in session.scalars(
                select(WebhookEvent).where(WebhookEvent.status == "out_of_band")
            )
        ]


def test_a_foreign_payment_intent_with_our_metadata_is_not_booked(market: Market) -> None:
    payment_id = market.new_payment(amount=1000, carrier_amount=800)
    foreign = foreign_intent(market, payment_id, amount=50)

    assert deliver(market, events_of(market, foreign["id"], "payment_intent.succeeded")) == [
        "out_of_band"
    ]
    payment = payment_row(market, payment_id)
    assert payment.status == "pending" and payment.stripe_payment_intent_id is None
    assert count(market, Posting) == 0
    (reason,) = out_of_band_reasons(market)
    assert foreign["id"] in reason and f"payment {payment_id}" in reason

    # Our own charge then goes through for the full amount, booked once.
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    payment = payment_row(market, payment_id)
    assert payment.stripe_payment_intent_id not in (None, foreign["id"])
    with transaction(market.sessions) as session:
        booked = session.scalars(select(LedgerLine.amount).where(LedgerLine.side == "debit"))
        assert sum(booked) == 1000


def test_a_stored_payment_intent_id_is_never_replaced(market: Market) -> None:
    payment_id = market.new_payment(amount=1000, carrier_amount=800, payment_method=None)
    # No payment method yet: our PaymentIntent waits for the customer, its id stored.
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == (
        "requires_payment_method"
    )
    ours = payment_row(market, payment_id).stripe_payment_intent_id
    foreign = foreign_intent(market, payment_id, amount=50)

    assert deliver(market, events_of(market, foreign["id"], "payment_intent.succeeded")) == [
        "out_of_band"
    ]
    payment = payment_row(market, payment_id)
    assert payment.stripe_payment_intent_id == ours
    assert payment.status == "requires_payment_method"
    assert count(market, Posting) == 0


def test_a_foreign_refund_naming_our_refund_is_not_booked(market: Market) -> None:
    payment_id = market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=3000).id
        intent = session.get(Payment, payment_id).stripe_payment_intent_id  # type: ignore[union-attr]
    # Someone refunds 1.00 in the dashboard and labels it with our refund's id.
    foreign = client(market).v1.refunds.create(
        params={"payment_intent": intent, "amount": 100, "metadata": {"refund_id": str(refund_id)}}
    )
    events = [e for e in all_events(market) if e["data"]["object"].get("id") == foreign.id]
    assert events
    assert set(deliver(market, events)) == {"out_of_band"}
    with transaction(market.sessions) as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        assert refund.status == "pending" and refund.stripe_refund_id is None
    assert count(market, Posting) == 1  # the charge only
    assert refunds.advance_refund(market.sessions, market.gateway, refund_id) == "succeeded"
    with transaction(market.sessions) as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None and refund.stripe_refund_id != foreign.id


def test_our_own_refund_is_recognised_before_its_id_is_stored(market: Market) -> None:
    """The refund job died after Stripe answered: our marker, amount, currency and
    PaymentIntent on the Refund make it ours, and the webhook books it once."""
    payment_id = market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=3000).id
        intent = session.get(Payment, payment_id).stripe_payment_intent_id  # type: ignore[union-attr]
    assert intent is not None
    ours = market.gateway.create_refund(refund_id, payment_intent=intent, amount=3000, reason=None)
    events = [e for e in all_events(market) if e["data"]["object"].get("id") == ours.id]
    assert "processed" in deliver(market, events)
    with transaction(market.sessions) as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        assert (refund.status, refund.stripe_refund_id) == ("succeeded", ours.id)
    assert count(market, Posting) == 2
