"""Two databases on one Stripe account (staging and development on the same test keys) each
charge their own payment 1: idempotency keys carry each installation's namespace, so neither
replays the other's PaymentIntent. Stripe scopes keys to the account
(https://docs.stripe.com/api/idempotent_requests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from scratch_databases import ScratchDatabases
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from models import Payment
from models.db import make_session_factory, transaction
from models.migrate import upgrade
from models.money import Money
from payments import charges, parties
from payments.gateway import StripeGateway, make_stripe_client
from payments.installation import key_namespace


@pytest.fixture
def second_installation(scratch_databases: ScratchDatabases) -> Iterator[sessionmaker[Session]]:
    url = scratch_databases.create("midway_other_install")
    upgrade(url)
    engine = create_engine(url)
    yield make_session_factory(engine)
    engine.dispose()
    scratch_databases.drop(url)


def installation_gateway(sessions: sessionmaker[Session], sim_url: str) -> StripeGateway:
    settings = load_settings({"STRIPE_API_KEY": "sk_test_midway"})
    client = make_stripe_client(settings, sim_url)
    return StripeGateway(client, key_namespace=key_namespace(sessions))


def first_payment(sessions: sessionmaker[Session], amount: int) -> int:
    with transaction(sessions) as session:
        shipper = parties.create_shipper(session, name="A", email="a@a.test", external_id="a")
        carrier = parties.create_carrier(
            session, name="C", email="c@c.test", country="US", default_currency="usd"
        )
        payment = charges.create_payment(
            session,
            shipper_id=shipper.id,
            carrier_id=carrier.id,
            load_reference="load-1",
            amount=Money(amount, "usd"),
            carrier_amount=0,
            payment_method="pm_card_bypassPending",
        )
        return payment.id


def test_two_installations_on_one_stripe_account_do_not_replay_each_other(
    sessions: sessionmaker[Session], second_installation: sessionmaker[Session], stripe_sim: Any
) -> None:
    assert key_namespace(sessions) != key_namespace(second_installation)
    intents = []
    for installation, amount in ((sessions, 1000), (second_installation, 2500)):
        payment_id = first_payment(installation, amount)
        assert payment_id == 1  # the same row id, hence the same row-derived key
        gateway = installation_gateway(installation, stripe_sim.url)
        assert charges.advance_payment(installation, gateway, payment_id) == "succeeded"
        with transaction(installation) as session:
            payment = session.get(Payment, payment_id)
            assert payment is not None
            intents.append(payment.stripe_payment_intent_id)
        intent = gateway.retrieve_payment_intent(intents[-1])
        assert intent.amount == amount
    assert intents[0] != intents[1]
