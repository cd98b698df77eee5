"""Our flows against live Stripe's answers (stripe_sim's strict defaults).

Card errors that name a field and carry no decline_code, Radar blocks, the redirect rule of
automatic payment methods, and an unknown connected account: each ends in a clear final state
on our row, never a retry loop and never a booking.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from config import load_settings
from models import Carrier, Payment, PayoutBatch
from models.db import transaction
from models.money import Money
from payments import charges, payouts
from payments.gateway import StripeGateway, make_stripe_client

from .conftest import Market


def as_stripe_holds_it(market: Market, intent_id: str) -> Any:
    """The PaymentIntent's full JSON at Stripe, for request fields our records do not read."""
    client = stripe.StripeClient("sk_test_midway", base_addresses={"api": market.sim_url})
    return client.raw_request("get", f"/v1/payment_intents/{intent_id}").data


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error"),
        ("pm_card_chargeDeclinedFraudulent", "fraudulent"),
    ],
)
def test_card_errors_fail_the_payment_with_stripes_code(
    market: Market, card: str, code: str
) -> None:
    """https://docs.stripe.com/error-codes: the first three have no decline_code; the code
    itself is what we record."""
    payment_id = market.new_payment(payment_method=card)
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "failed"
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        assert (payment.failure_code, payment.recovery_point) == (code, "finished")
        assert payment.attention_at is None and payment.failure_message


def test_payment_intents_are_created_the_way_live_stripe_accepts(market: Market) -> None:
    """https://docs.stripe.com/api/payment_intents/confirm: without STRIPE_RETURN_URL our
    PaymentIntents allow no redirects; with it they allow them and carry the return_url."""
    payment_id = market.paid()
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None and payment.stripe_payment_intent_id
        intent_id = payment.stripe_payment_intent_id
    intent = as_stripe_holds_it(market, intent_id)
    assert intent["automatic_payment_methods"]["allow_redirects"] == "never"

    settings = load_settings(
        {
            "STRIPE_API_KEY": "sk_test_midway",
            "STRIPE_RETURN_URL": "https://shipper.midway.test/paid",
        }
    )
    assert settings.stripe_return_url == "https://shipper.midway.test/paid"
    redirecting = StripeGateway(
        make_stripe_client(settings, market.sim_url), return_url=settings.stripe_return_url
    )
    other = market.new_payment()
    assert charges.advance_payment(market.sessions, redirecting, other) == "succeeded"
    with transaction(market.sessions) as session:
        paid = session.get(Payment, other)
        assert paid is not None and paid.stripe_payment_intent_id
        other_intent = paid.stripe_payment_intent_id
    assert (
        as_stripe_holds_it(market, other_intent)["automatic_payment_methods"]["allow_redirects"]
        == "always"
    )

    # Confirming later (a new payment method) also carries the return_url.
    later = market.new_payment(payment_method=None)
    assert charges.advance_payment(market.sessions, redirecting, later) == (
        "requires_payment_method"
    )
    with transaction(market.sessions) as session:
        charges.request_confirmation(session, later, "pm_card_bypassPending")
    assert charges.advance_payment(market.sessions, redirecting, later) == "succeeded"


def test_a_transfer_to_an_account_stripe_does_not_know_fails_with_account_invalid(
    market: Market,
) -> None:
    """https://docs.stripe.com/error-codes (account_invalid): a payout on a connected account
    the platform cannot access is a 403; the batch fails with that code, nothing is retried."""
    market.paid(20000, 16000)
    with transaction(market.sessions) as session:
        batch_id = payouts.request_transfer(session, market.carrier_id, Money(16000, "usd")).id
    assert payouts.advance_batch(market.sessions, market.gateway, batch_id) == "transferred"
    market.control("clock", {"advance": 3 * 86_400})
    with transaction(market.sessions) as session:
        payout_id = payouts.request_payout(
            session, market.carrier_id, Money(16000, "usd"), "standard"
        ).id
        carrier = session.get(Carrier, market.carrier_id)
        assert carrier is not None
        carrier.stripe_account_id = "acct_1GoneAccount000000"
    assert payouts.advance_batch(market.sessions, market.gateway, payout_id) == "failed"
    with transaction(market.sessions) as session:
        batch = session.get(PayoutBatch, payout_id)
        assert batch is not None and batch.failure_code == "account_invalid"
