"""Unknown Stripe outcomes are settled by looking the object up, never by a second effect.

Against stripe_sim's strict defaults (https://docs.stripe.com/api/idempotent_requests): a 500
after the effect is replayed for its key, a request overlapping its key gets 409, keys are
forgotten after 24 hours, and a client that times out does not know what happened. Every test
counts the objects at the simulator: exactly one PaymentIntent, refund, transfer or payout per
row, and one posting.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from config import load_settings
from models import Payment, PayoutBatch, Posting, Refund
from models.db import transaction
from models.money import Money
from payments import charges, payouts, refunds
from payments.errors import OutcomeUnknown
from payments.gateway import StripeGateway, make_stripe_client

from .conftest import Market

DAY = 86_400


def at_stripe(market: Market, kind: str, account: str = "platform") -> int:
    state = market.control_get("state")
    return int(state["accounts"].get(account, {}).get(kind, 0))


def postings(market: Market, kind: str) -> int:
    with transaction(market.sessions) as session:
        return int(
            session.scalar(select(func.count()).select_from(Posting).where(Posting.kind == kind))
            or 0
        )


def fail_after_commit(market: Market, path: str, **extra: Any) -> None:
    market.control(
        "faults",
        {
            "commit_then_fail": 1.0,
            "commit_then_fail_mode": "500",
            "path": path,
            "method": "POST",
            "next": 1,
            **extra,
        },
    )


def test_a_500_replayed_for_the_key_is_settled_by_a_look_up(market: Market) -> None:
    payment_id = market.new_payment()
    fail_after_commit(market, "/v1/payment_intents")
    with pytest.raises(OutcomeUnknown):
        charges.advance_payment(market.sessions, market.gateway, payment_id)
    # The same key now replays that 500 (test_sim_faults); only a look-up can tell.
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert at_stripe(market, "payment_intent") == 1
    assert postings(market, "charge") == 1


def test_a_key_forgotten_after_24_hours_does_not_charge_twice(market: Market) -> None:
    payment_id = market.new_payment()
    fail_after_commit(market, "/v1/payment_intents")
    with pytest.raises(OutcomeUnknown):
        charges.advance_payment(market.sessions, market.gateway, payment_id)
    market.control("clock", {"advance": DAY + 3600})  # Stripe has forgotten the key
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert at_stripe(market, "payment_intent") == 1
    assert postings(market, "charge") == 1


def test_a_timeout_then_409_in_use_then_the_object(market: Market) -> None:
    """The client gives up while Stripe is still working; the retry meets the key in use."""
    settings = load_settings(
        {
            "STRIPE_API_KEY": "sk_test_midway",
            "STRIPE_READ_TIMEOUT_S": "0.5",
            "STRIPE_MAX_NETWORK_RETRIES": "0",
        }
    )
    impatient = StripeGateway(make_stripe_client(settings, market.sim_url))
    payment_id = market.new_payment()
    market.control(
        "faults", {"slow_ms": 1500, "path": "/v1/payment_intents", "method": "POST", "next": 1}
    )
    with pytest.raises(OutcomeUnknown, match="unreachable"):
        charges.advance_payment(market.sessions, impatient, payment_id)
    with pytest.raises(OutcomeUnknown, match="in-progress"):
        charges.advance_payment(market.sessions, market.gateway, payment_id)
    time.sleep(1.5)  # the first request completes at Stripe
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert at_stripe(market, "payment_intent") == 1
    assert postings(market, "charge") == 1


def test_two_jobs_racing_on_one_payment_make_one_charge(market: Market) -> None:
    payment_id = market.new_payment()
    market.control(
        "faults", {"slow_ms": 400, "path": "/v1/payment_intents", "method": "POST", "next": 1}
    )
    results: list[str] = []

    def run() -> None:
        try:
            results.append(charges.advance_payment(market.sessions, market.gateway, payment_id))
        except OutcomeUnknown:
            results.append("unknown")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    assert sorted(results) == ["succeeded", "unknown"]
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert at_stripe(market, "payment_intent") == 1
    assert postings(market, "charge") == 1


MODES = ("500 replayed", "key expired", "timeout")


def first_attempt_unknown(
    market: Market, mode: str, path: str, account: str | None = None
) -> StripeGateway:
    """Arm the fault that leaves the next write's outcome unknown; the gateway to try with."""
    scope = {"account": account} if account else {}
    if mode == "timeout":
        market.control(
            "faults", {"slow_ms": 1200, "path": path, "method": "POST", "next": 1, **scope}
        )
        return impatient_gateway(market)
    fail_after_commit(market, path, **scope)
    return market.gateway


def after_unknown(market: Market, mode: str) -> None:
    if mode == "key expired":
        market.control("clock", {"advance": DAY + 1})
    elif mode == "timeout":
        time.sleep(1.3)  # Stripe finishes the request the client gave up on


def impatient_gateway(market: Market) -> StripeGateway:
    settings = load_settings(
        {
            "STRIPE_API_KEY": "sk_test_midway",
            "STRIPE_READ_TIMEOUT_S": "0.5",
            "STRIPE_MAX_NETWORK_RETRIES": "0",
        }
    )
    return StripeGateway(make_stripe_client(settings, market.sim_url))


@pytest.mark.parametrize("mode", MODES)
def test_a_refund_with_an_unknown_outcome_is_found_not_repeated(market: Market, mode: str) -> None:
    payment_id = market.paid()
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=2500).id
    first = first_attempt_unknown(market, mode, "/v1/refunds")
    with pytest.raises(OutcomeUnknown):
        refunds.advance_refund(market.sessions, first, refund_id)
    after_unknown(market, mode)
    assert refunds.advance_refund(market.sessions, market.gateway, refund_id) == "succeeded"
    assert at_stripe(market, "refund") == 1
    assert postings(market, "refund") == 1
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None and payment.amount_refunded == 2500


@pytest.mark.parametrize("mode", MODES)
def test_a_transfer_and_a_payout_with_unknown_outcomes_happen_once(
    market: Market, mode: str
) -> None:
    market.paid(20000, 16000)
    with transaction(market.sessions) as session:
        batch_id = payouts.request_transfer(session, market.carrier_id, Money(16000, "usd")).id
    first = first_attempt_unknown(market, mode, "/v1/transfers")
    with pytest.raises(OutcomeUnknown):
        payouts.advance_batch(market.sessions, first, batch_id)
    after_unknown(market, mode)
    assert payouts.advance_batch(market.sessions, market.gateway, batch_id) == "transferred"
    assert at_stripe(market, "transfer") == 1

    market.control("clock", {"advance": 3 * DAY})  # funds available on the connected account
    with transaction(market.sessions) as session:
        payout_id = payouts.request_payout(
            session, market.carrier_id, Money(16000, "usd"), "standard"
        ).id
    first = first_attempt_unknown(market, mode, "/v1/payouts", market.carrier_account)
    with pytest.raises(OutcomeUnknown):
        payouts.advance_batch(market.sessions, first, payout_id)
    after_unknown(market, mode)
    assert payouts.advance_batch(market.sessions, market.gateway, payout_id) in ("pending", "paid")
    assert at_stripe(market, "payout", market.carrier_account) == 1
    assert postings(market, "transfer") == 1 and postings(market, "payout") == 1
    with transaction(market.sessions) as session:
        batch = session.get(PayoutBatch, payout_id)
        assert batch is not None and batch.stripe_payout_id and batch.attention_at is None


def test_a_marked_object_that_does_not_match_parks_the_row(market: Market) -> None:
    """Stripe holds a PaymentIntent with our marker but another amount: not ours to book."""
    payment_id = market.new_payment(amount=10000)
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        payment.attempts = 1  # an earlier attempt may have reached Stripe
    market.gateway.create_payment_intent(
        999,
        amount=5000,
        currency="usd",
        customer=market.customer(),
        payment_method=None,
        confirm=False,
        transfer_group="x",
        description=None,
        metadata={"payment_id": str(payment_id)},
    )
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "pending"
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None and payment.attention_at is not None
        assert "5000 usd, not 10000 usd" in str(payment.attention_reason)
    # Parked: the job leaves it alone, nothing more is sent to Stripe, and a webhook carrying
    # the marked PaymentIntent books nothing either: a person decides.
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "pending"
    assert at_stripe(market, "payment_intent") == 1
    [marked] = market.gateway.find_payment_intents(payment_id, customer=market.customer())
    with transaction(market.sessions) as session:
        assert charges.record_payment_intent(session, market.gateway, payment_id, marked) == (
            "pending"
        )
    assert postings(market, "charge") == 0


def test_a_refund_row_parked_is_skipped_by_its_job(market: Market) -> None:
    payment_id = market.paid()
    with transaction(market.sessions) as session:
        refund = refunds.request_refund(session, payment_id, amount=1000)
        refund.attention_reason, refund.attention_at = "looked odd", refund.created_at
        refund_id = refund.id
    assert refunds.advance_refund(market.sessions, market.gateway, refund_id) == "pending"
    assert at_stripe(market, "refund") == 0
    with transaction(market.sessions) as session:
        parked = session.get(Refund, refund_id)
        assert parked is not None and parked.attempts == 0
