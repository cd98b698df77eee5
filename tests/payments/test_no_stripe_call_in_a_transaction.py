"""No Stripe call while a database transaction (and so a row lock) is held.

A guard sees every HTTP request the gateway makes, just before it goes out; this one asks
PostgreSQL, over a connection of its own, whether any other session of the test's database sits
idle inside a transaction at that moment, i.e. waits on Stripe with its transaction open.
The cases are the ones that read a copy of a Stripe object without its balance transactions
(a list's, after an unknown outcome) and must fetch it again before locking the row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from config import load_settings
from models.db import transaction
from models.money import Money
from payments import payouts, refunds
from payments.errors import OutcomeUnknown
from payments.gateway import StripeGateway, make_stripe_client
from payments.gateway.guard import Sent

from .conftest import Market
from .test_unknown_outcomes import DAY, at_stripe, fail_after_commit, postings

OPEN_TRANSACTIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
)


class TransactionProbe:
    """A CallGuard that counts Stripe calls made while another session holds a transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls = 0
        self.calls_in_transaction = 0

    def before_send(self) -> Sent | None:
        self.calls += 1
        with self.engine.connect() as connection:
            if connection.scalar(OPEN_TRANSACTIONS):
                self.calls_in_transaction += 1
        return None

    def record_success(self) -> None:
        return None

    def record_failure(self) -> None:
        return None


@pytest.fixture
def probe(committed_database_url: str) -> Iterator[TransactionProbe]:
    engine = create_engine(committed_database_url, pool_size=1)
    yield TransactionProbe(engine)
    engine.dispose()


def probed_gateway(market: Market, probe: TransactionProbe) -> StripeGateway:
    settings = load_settings(
        {"STRIPE_API_KEY": "sk_test_midway", "STRIPE_MAX_NETWORK_RETRIES": "0"}
    )
    return StripeGateway(make_stripe_client(settings, market.sim_url, guard=probe), probe)


def test_a_refund_found_by_its_marker_is_expanded_before_its_row_is_locked(
    market: Market, probe: TransactionProbe
) -> None:
    payment_id = market.paid()
    with transaction(market.sessions) as session:
        refund_id = refunds.request_refund(session, payment_id, amount=2500).id
    fail_after_commit(market, "/v1/refunds")
    with pytest.raises(OutcomeUnknown):
        refunds.advance_refund(market.sessions, market.gateway, refund_id)

    gateway = probed_gateway(market, probe)
    assert refunds.advance_refund(market.sessions, gateway, refund_id) == "succeeded"
    # The list look-up, then the refund with its balance transaction.
    assert probe.calls == 2
    assert probe.calls_in_transaction == 0
    assert at_stripe(market, "refund") == 1 and postings(market, "refund") == 1


def test_a_payout_found_by_its_marker_is_expanded_before_its_row_is_locked(
    market: Market, probe: TransactionProbe
) -> None:
    market.paid(20000, 16000)
    with transaction(market.sessions) as session:
        transfer_id = payouts.request_transfer(session, market.carrier_id, Money(16000, "usd")).id
    assert payouts.advance_batch(market.sessions, market.gateway, transfer_id) == "transferred"
    market.control("clock", {"advance": 3 * DAY})  # funds available on the connected account
    with transaction(market.sessions) as session:
        batch_id = payouts.request_payout(
            session, market.carrier_id, Money(16000, "usd"), "standard"
        ).id
    fail_after_commit(market, "/v1/payouts", account=market.carrier_account)
    with pytest.raises(OutcomeUnknown):
        payouts.advance_batch(market.sessions, market.gateway, batch_id)

    gateway = probed_gateway(market, probe)
    assert payouts.advance_batch(market.sessions, gateway, batch_id) in ("pending", "paid")
    assert probe.calls >= 2
    assert probe.calls_in_transaction == 0
    assert at_stripe(market, "payout", market.carrier_account) == 1
    assert postings(market, "payout") == 1
