"""Transfers and payouts to carriers through the real services and stripe_sim."""

from __future__ import annotations

import pytest
import stripe
from sqlalchemy import select

from models import Carrier, PayoutBatch, Posting
from models.db import transaction
from models.money import Money
from payments import chart, ledger, parties, payouts, refunds
from payments.errors import InvalidOperation

from .conftest import Market

DAY = 86400


def batch_status(market: Market, batch_id: int) -> PayoutBatch:
    with transaction(market.sessions) as session:
        batch = session.get(PayoutBatch, batch_id)
        assert batch is not None
        return batch


def transfer(market: Market, amount: int) -> int:
    with transaction(market.sessions) as session:
        batch_id = payouts.request_transfer(session, market.carrier_id, Money(amount, "usd")).id
    payouts.advance_batch(market.sessions, market.gateway, batch_id)
    return batch_id


def payout(market: Market, amount: int, method: str = "standard") -> int:
    with transaction(market.sessions) as session:
        batch_id = payouts.request_payout(
            session, market.carrier_id, Money(amount, "usd"), method
        ).id
    payouts.advance_batch(market.sessions, market.gateway, batch_id)
    return batch_id


def kinds(market: Market) -> list[str]:
    with transaction(market.sessions) as session:
        return list(session.scalars(select(Posting.kind).order_by(Posting.id)))


def test_transfer_moves_the_payable_to_the_carriers_connected_balance(market: Market) -> None:
    market.paid(10000, 8000)
    batch_id = transfer(market, 8000)
    batch = batch_status(market, batch_id)
    assert batch.status == "transferred" and batch.recovery_point == "finished"
    assert batch.stripe_transfer_id
    with transaction(market.sessions) as session:
        assert (
            ledger.balance(session, chart.carrier_payable(market.carrier_id).code, "usd").amount
            == 0
        )
        assert ledger.balance(session, chart.stripe_balance().code, "usd").amount == 9680 - 8000
        connected = chart.stripe_balance(market.carrier_account).code
        assert ledger.balance(session, connected, "usd").amount == 8000
        assert payouts.funds_on_connected_account(session, market.carrier_account, "usd") == 8000
        assert ledger.trial_balance(session) == {"usd": 0}
    assert kinds(market) == ["charge", "transfer", "payment"]
    # The job again: nothing more at Stripe, nothing more in the ledger.
    payouts.advance_batch(market.sessions, market.gateway, batch_id)
    client = stripe.StripeClient("sk_test_midway", base_addresses={"api": market.sim_url})
    assert len(client.v1.transfers.list().data) == 1
    assert kinds(market) == ["charge", "transfer", "payment"]


@pytest.mark.parametrize("method", ["standard", "instant"])
def test_payout_is_paid_when_the_bank_confirms(market: Market, method: str) -> None:
    market.paid(10000, 8000)
    transfer(market, 8000)
    # Instant payouts cost the carrier a fee, so leave room for it on their balance.
    batch_id = payout(market, 7000, method)
    assert batch_status(market, batch_id).stripe_payout_id
    market.control("clock", {"advance": 5 * DAY})
    assert payouts.advance_batch(market.sessions, market.gateway, batch_id) == "paid"
    with transaction(market.sessions) as session:
        connected = chart.stripe_balance(market.carrier_account).code
        fee = ledger.balance(session, chart.connected_fees(market.carrier_account).code, "usd")
        assert ledger.balance(session, connected, "usd").amount == 1000 - fee.amount
        assert (fee.amount > 0) == (method == "instant")
        assert payouts.funds_on_connected_account(session, market.carrier_account, "usd") == 1000
        assert ledger.trial_balance(session) == {"usd": 0}


def test_a_payout_stripe_refuses_fails_the_batch_with_stripes_code(market: Market) -> None:
    market.paid(10000, 8000)
    transfer(market, 8000)
    # The whole balance cannot also cover an instant payout's fee: Stripe says so.
    batch_id = payout(market, 8000, "instant")
    batch = batch_status(market, batch_id)
    assert (batch.status, batch.failure_code) == ("failed", "balance_insufficient")
    assert kinds(market) == ["charge", "transfer", "payment"]


def test_a_failed_payout_returns_the_money_to_the_connected_balance(market: Market) -> None:
    market.paid(10000, 8000)
    transfer(market, 8000)
    batch_id = payout(market, 8000)
    market.control(
        f"payouts/{batch_status(market, batch_id).stripe_payout_id}/fail",
        {"failure_code": "account_closed"},
    )
    assert payouts.advance_batch(market.sessions, market.gateway, batch_id) == "failed"
    batch = batch_status(market, batch_id)
    assert batch.failure_code == "account_closed"
    with transaction(market.sessions) as session:
        assert payouts.funds_on_connected_account(session, market.carrier_account, "usd") == 8000
        assert ledger.trial_balance(session) == {"usd": 0}
    assert kinds(market)[-2:] == ["payout", "payout_failure"]


def test_a_refund_after_the_carrier_was_paid_becomes_a_receivable(market: Market) -> None:
    payment_id = market.paid(10000, 8000)
    transfer(market, 8000)
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=5000).id
    assert refunds.advance_refund(market.sessions, market.gateway, refund_id) == "succeeded"
    with transaction(market.sessions) as session:
        receivable = payouts.receivable_from_carrier(session, market.carrier_id, "usd")
        assert receivable == 4000  # the carrier's 80% share of the 5000 refund
        assert payouts.owed_to_carrier(session, market.carrier_id, "usd") == 0
        assert ledger.trial_balance(session) == {"usd": 0}


def test_money_cannot_go_where_the_rules_forbid(market: Market) -> None:
    market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        with pytest.raises(InvalidOperation, match="exceeds what we owe"):
            payouts.request_transfer(session, market.carrier_id, Money(8001, "usd"))
        with pytest.raises(InvalidOperation, match="exceeds carrier .* balance"):
            payouts.request_payout(session, market.carrier_id, Money(1, "usd"), "standard")
        with pytest.raises(InvalidOperation, match="standard or instant"):
            payouts.request_payout(session, market.carrier_id, Money(1, "usd"), "express")
        other = parties.create_carrier(
            session, name="New Carrier", email="n@c.test", country="US", default_currency="usd"
        )
        with pytest.raises(InvalidOperation, match="payouts enabled"):
            payouts.request_transfer(session, other.id, Money(100, "usd"))
        assert session.scalars(select(PayoutBatch)).all() == []
        carrier = session.get(Carrier, market.carrier_id)
        assert carrier is not None and carrier.payouts_enabled


def test_requests_cannot_claim_money_a_batch_not_yet_run_already_claims(market: Market) -> None:
    market.paid(10000, 8000)
    with transaction(market.sessions) as session:
        payouts.request_transfer(session, market.carrier_id, Money(5000, "usd"))
    with transaction(market.sessions) as session:
        # Only 3000 of the 8000 owed is not already on its way.
        with pytest.raises(InvalidOperation, match=r"exceeds what we owe .*\$30\.00"):
            payouts.request_transfer(session, market.carrier_id, Money(5000, "usd"))
        payouts.request_transfer(session, market.carrier_id, Money(3000, "usd"))
    with transaction(market.sessions) as session:
        batch_ids = list(session.scalars(select(PayoutBatch.id).order_by(PayoutBatch.id)))
    assert len(batch_ids) == 2
    for batch_id in batch_ids:
        assert payouts.advance_batch(market.sessions, market.gateway, batch_id) == "transferred"
    with transaction(market.sessions) as session:
        assert payouts.funds_on_connected_account(session, market.carrier_account, "usd") == 8000
        payouts.request_payout(session, market.carrier_id, Money(8000, "usd"), "standard")
        with pytest.raises(InvalidOperation, match="exceeds carrier"):
            payouts.request_payout(session, market.carrier_id, Money(1, "usd"), "standard")
