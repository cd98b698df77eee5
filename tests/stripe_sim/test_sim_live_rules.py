"""Live Stripe's unkind rules, each with the Stripe docs page it comes from.

These are the behaviours where a kinder simulator would let a payments engine pass tests and
then fail against api.stripe.com: redirect-capable payment methods, card error shapes, Radar
blocks, Connect account access, capture minimums, uncaptured refunds, partial captures.
Idempotency, rate limits and search: test_sim_idempotency_limits.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from sim_helpers import Control

NO_REDIRECTS = {"automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}


def _intent(client: stripe.StripeClient, **params: Any) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 2_000, "currency": "usd", **params})


def test_redirect_capable_intent_needs_return_url(
    client: stripe.StripeClient, ctl: Control
) -> None:
    """https://docs.stripe.com/api/payment_intents/confirm (return_url): a PaymentIntent with
    automatic payment methods (the default without payment_method_types) allows redirects, so
    a server-side confirmation without return_url is a 400 naming `return_url`, and nothing is
    left behind."""
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _intent(client, payment_method="pm_card_visa", confirm=True)
    assert refused.value.http_status == 400
    assert refused.value.error is not None and refused.value.error.param == "return_url"
    assert "payment_intent" not in ctl.get("state")["accounts"]["platform"]

    pending = _intent(client)
    assert pending.automatic_payment_methods is not None
    assert pending.automatic_payment_methods.allow_redirects == "always"
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.confirm(pending.id, params={"payment_method": "pm_card_visa"})
    assert again.value.error is not None and again.value.error.param == "return_url"

    # What live Stripe accepts: no redirects, explicit card, or a return_url.
    assert (
        _intent(client, payment_method="pm_card_visa", confirm=True, **NO_REDIRECTS).status
        == "succeeded"
    )
    assert (
        _intent(
            client, payment_method="pm_card_visa", confirm=True, payment_method_types=["card"]
        ).status
        == "succeeded"
    )
    assert (
        _intent(
            client,
            payment_method="pm_card_visa",
            confirm=True,
            return_url="https://midway.test/back",
        ).status
        == "succeeded"
    )
    confirmed = client.v1.payment_intents.confirm(
        pending.id, params={"payment_method": "pm_card_visa", "return_url": "https://m.test/r"}
    )
    assert confirmed.status == "succeeded"


@pytest.mark.parametrize(
    ("card", "code", "param"),
    [
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "cvc"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "exp_month"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", None),
    ],
)
def test_card_field_errors_carry_param_and_no_decline_code(
    client: stripe.StripeClient, card: str, code: str, param: str | None
) -> None:
    """https://docs.stripe.com/testing#declined-payments and https://docs.stripe.com/error-codes:
    incorrect_cvc and expired_card name the card field in `param`; these three codes are the
    reason themselves and come without a `decline_code`."""
    with pytest.raises(stripe.CardError) as declined:
        _intent(client, payment_method=card, confirm=True, **NO_REDIRECTS)
    error = declined.value.json_body["error"]  # type: ignore[index]
    assert (error["code"], error["param"]) == (code, param)
    assert "decline_code" not in error
    last = error["payment_intent"]["last_payment_error"]
    assert last["code"] == code and "decline_code" not in last


def test_fraudulent_decline_is_blocked_before_the_network(client: stripe.StripeClient) -> None:
    """https://docs.stripe.com/api/charges/object#charge_object-outcome-type and
    https://docs.stripe.com/radar/testing: a payment Radar blocks has outcome type `blocked`
    and network_status `not_sent_to_network`."""
    with pytest.raises(stripe.CardError) as declined:
        _intent(
            client, payment_method="pm_card_chargeDeclinedFraudulent", confirm=True, **NO_REDIRECTS
        )
    assert declined.value.error is not None
    assert declined.value.error.decline_code == "fraudulent"
    charge = client.v1.charges.retrieve(str(declined.value.error.charge))
    assert charge.outcome is not None
    assert (charge.outcome.type, charge.outcome.network_status) == (
        "blocked",
        "not_sent_to_network",
    )


def test_unknown_connected_account_is_403_account_invalid(client: stripe.StripeClient) -> None:
    """https://docs.stripe.com/connect/authentication and https://docs.stripe.com/error-codes
    (account_invalid): a Stripe-Account the platform has no access to is a 403."""
    with pytest.raises(stripe.PermissionError) as denied:
        client.v1.balance.retrieve(options={"stripe_account": "acct_1NoSuchAccount00"})
    assert denied.value.http_status == 403
    assert denied.value.error is not None and denied.value.error.code == "account_invalid"


def test_capture_below_the_currency_minimum_is_amount_too_small(
    client: stripe.StripeClient,
) -> None:
    """https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts: a capture must be
    at least the currency's minimum (50 cents in usd)."""
    pi = _intent(
        client, payment_method="pm_card_visa", confirm=True, capture_method="manual", **NO_REDIRECTS
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 49})
    assert refused.value.http_status == 400
    assert refused.value.error is not None
    assert (refused.value.error.code, refused.value.error.param) == (
        "amount_too_small",
        "amount_to_capture",
    )
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"


def test_refunding_an_uncaptured_charge(client: stripe.StripeClient) -> None:
    """https://docs.stripe.com/api/refunds/create and
    https://docs.stripe.com/payments/place-a-hold-on-a-payment-method: refunding an uncaptured
    charge in full releases the authorization (the PaymentIntent is canceled, no money moves);
    a partial refund of it is a 400."""
    pi = _intent(
        client, payment_method="pm_card_visa", confirm=True, capture_method="manual", **NO_REDIRECTS
    )
    with pytest.raises(stripe.InvalidRequestError) as partial:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    assert partial.value.http_status == 400
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded" and refund.amount == 2_000
    assert refund.balance_transaction is None
    assert client.v1.payment_intents.retrieve(pi.id).status == "canceled"
    assert client.v1.charges.retrieve(str(pi.latest_charge)).refunded
    assert client.v1.balance_transactions.list().data == []


def test_partial_capture_books_a_partial_capture_reversal(client: stripe.StripeClient) -> None:
    """https://docs.stripe.com/reports/reporting-categories ("A separate category for
    partial-capture reversals"): capturing less than the authorization shows one balance
    transaction for the full authorization and a `partial_capture_reversal` for the rest;
    together they are the captured amount."""
    pi = _intent(
        client,
        amount=10_000,
        payment_method="pm_card_visa",
        confirm=True,
        capture_method="manual",
        **NO_REDIRECTS,
    )
    client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 6_000})
    txns = client.v1.balance_transactions.list().data
    by_type = {t.type: t for t in txns}
    assert set(by_type) == {"charge", "partial_capture_reversal"}
    assert by_type["charge"].amount == 10_000
    reversal = by_type["partial_capture_reversal"]
    assert (reversal.amount, reversal.fee, reversal.source) == (-4_000, 0, pi.latest_charge)
    assert reversal.reporting_category == "partial_capture_reversal"
    assert sum(t.net for t in txns) == 6_000 - by_type["charge"].fee
