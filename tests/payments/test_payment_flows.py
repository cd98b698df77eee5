"""Charges and refunds through the real services, the real stripe SDK and stripe_sim."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from models import Payment, Posting, Refund
from models.db import transaction
from payments import charges, chart, ledger, refunds
from payments.errors import InvalidOperation, StripeUnavailable

from .conftest import Market


def stripe_client(market: Market) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_midway", base_addresses={"api": market.sim_url})


def postings(market: Market, kind: str | None = None) -> list[Posting]:
    with transaction(market.sessions) as session:
        query = select(Posting).order_by(Posting.id)
        if kind:
            query = query.where(Posting.kind == kind)
        return list(session.scalars(query))


def test_a_succeeded_charge_books_stripe_gross_fee_and_net(market: Market) -> None:
    payment_id = market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        assert payment.status == "succeeded" and payment.recovery_point == "finished"
        assert payment.stripe_payment_intent_id and payment.stripe_charge_id
        txn = market.gateway.retrieve_balance_transaction(payment.stripe_balance_transaction_id)
        assert (txn.amount, txn.fee, txn.net) == (10000, 320, 9680)  # 2.9% + 30
        assert ledger.balance(session, chart.stripe_balance().code, "usd").amount == 9680
        assert ledger.balance(session, chart.STRIPE_FEES.code, "usd").amount == 320
        payable = chart.carrier_payable(market.carrier_id).code
        assert ledger.balance(session, payable, "usd").amount == -8000
        assert ledger.balance(session, chart.COMMISSION_REVENUE.code, "usd").amount == -2000
        assert ledger.trial_balance(session) == {"usd": 0}
    [posting] = postings(market, "charge")
    assert posting.stripe_balance_transaction == txn.id
    assert posting.stripe_source == payment.stripe_charge_id
    assert posting.stripe_payment_intent == payment.stripe_payment_intent_id
    assert int(posting.occurred_at.timestamp()) == txn.created


def test_running_the_job_again_changes_nothing(market: Market) -> None:
    payment_id = market.paid()
    for _ in range(3):
        assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert len(postings(market, "charge")) == 1
    intents = stripe_client(market).v1.payment_intents.list()
    assert len(intents.data) == 1


def test_concurrent_twins_charge_once(market: Market) -> None:
    payment_id = market.new_payment()
    results: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(charges.advance_payment(market.sessions, market.gateway, payment_id))
        except StripeUnavailable:  # a twin mid-request with the same key: retried later
            pass
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert len(stripe_client(market).v1.payment_intents.list().data) == 1
    assert len(postings(market, "charge")) == 1


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_insufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_fails_with_stripes_code_and_books_nothing(
    market: Market, card: str, decline_code: str
) -> None:
    payment_id = market.new_payment(payment_method=card)
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "failed"
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        assert payment.failure_code == decline_code
        assert payment.failure_message
        assert payment.stripe_payment_intent_id
    assert postings(market) == []
    # Retrying the job replays Stripe's answer; nothing new happens.
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "failed"


def test_commit_then_fail_is_not_a_double_charge(market: Market) -> None:
    payment_id = market.new_payment()
    market.control("faults", {"commit_then_fail": 1.0, "path": "/v1/payment_intents", "next": 1})
    with pytest.raises(StripeUnavailable):
        charges.advance_payment(market.sessions, market.gateway, payment_id)
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert len(stripe_client(market).v1.payment_intents.list().data) == 1
    assert len(postings(market, "charge")) == 1


@pytest.mark.parametrize("fault", ["error_500", "rate_limit_429"])
def test_transient_stripe_errors_are_retried_not_failed(market: Market, fault: str) -> None:
    payment_id = market.new_payment()
    market.control("faults", {fault: 1.0, "path": "/v1/payment_intents", "next": 1})
    with pytest.raises(StripeUnavailable) as raised:
        charges.advance_payment(market.sessions, market.gateway, payment_id)
    assert raised.value.retry_after_s > 0
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None and payment.status == "pending"
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"


def test_client_side_confirmation_then_confirm_with_a_method(market: Market) -> None:
    payment_id = market.new_payment(payment_method=None)
    status = charges.advance_payment(market.sessions, market.gateway, payment_id)
    assert status == "requires_payment_method"
    with transaction(market.sessions) as session:
        charges.request_confirmation(session, payment_id, "pm_card_bypassPending")
    assert charges.advance_payment(market.sessions, market.gateway, payment_id) == "succeeded"
    assert len(postings(market, "charge")) == 1


def refund(market: Market, payment_id: int, amount: int | None) -> tuple[int, str]:
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=amount).id
    return refund_id, refunds.advance_refund(market.sessions, market.gateway, refund_id)


def test_partial_then_full_refund_reverses_gross_and_keeps_the_fee(market: Market) -> None:
    payment_id = market.paid(10000, 8000)
    assert refund(market, payment_id, 2500)[1] == "succeeded"
    assert refund(market, payment_id, None)[1] == "succeeded"  # the remaining 7500
    with transaction(market.sessions) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None and payment.amount_refunded == 10000
        assert ledger.balance(session, chart.stripe_balance().code, "usd").amount == -320
        assert ledger.balance(session, chart.STRIPE_FEES.code, "usd").amount == 320
        payable = chart.carrier_payable(market.carrier_id).code
        assert ledger.balance(session, payable, "usd").amount == 0
        assert ledger.balance(session, chart.COMMISSION_REVENUE.code, "usd").amount == 0
        assert ledger.trial_balance(session) == {"usd": 0}
        with pytest.raises(InvalidOperation, match="nothing left"):
            refunds.request_refund(session, payment_id)
    assert [p.kind for p in postings(market)] == ["charge", "refund", "refund"]


def test_a_refund_above_the_refundable_amount_is_refused_and_sends_nothing(
    market: Market,
) -> None:
    payment_id = market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        with pytest.raises(InvalidOperation, match="exceeds the refundable amount 10000"):
            refunds.request_refund(session, payment_id, amount=10001)
        assert session.scalar(select(func.count()).select_from(Refund)) == 0
    assert stripe_client(market).v1.refunds.list().data == []


def test_refund_job_twice_refunds_once(market: Market) -> None:
    payment_id = market.paid()
    refund_id, status = refund(market, payment_id, 1000)
    assert status == "succeeded"
    assert refunds.advance_refund(market.sessions, market.gateway, refund_id) == "succeeded"
    assert len(stripe_client(market).v1.refunds.list().data) == 1
    assert len(postings(market, "refund")) == 1


def test_zero_decimal_currency(market: Market) -> None:
    market.control("accounts/platform/settlement", {"currencies": ["usd", "jpy"]})  # jpy bank
    payment_id = market.paid(15000, 12000, "jpy")
    with transaction(market.sessions) as session:
        payment: Any = session.get(Payment, payment_id)
        txn = market.gateway.retrieve_balance_transaction(payment.stripe_balance_transaction_id)
        assert txn.currency == "jpy" and txn.amount == 15000
        assert ledger.balance(session, chart.stripe_balance().code, "jpy").amount == txn.net
        assert ledger.trial_balance(session) == {"jpy": 0}
