"""Marketplace fixtures for service tests: a shipper with a Stripe customer, an onboarded
carrier, and helpers to drive money through the real services against stripe_sim."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from models import Shipper
from models.db import transaction
from models.money import Money
from payments import charges, parties
from payments.gateway import StripeGateway


@dataclass
class Market:
    sessions: sessionmaker[Session]
    gateway: StripeGateway
    sim_url: str
    shipper_id: int
    carrier_id: int
    carrier_account: str

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(f"{self.sim_url}/_sim/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def control_get(self, path: str) -> dict[str, Any]:
        response = requests.get(f"{self.sim_url}/_sim/{path}", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def customer(self) -> str:
        with transaction(self.sessions) as session:
            shipper = session.get(Shipper, self.shipper_id)
            assert shipper is not None and shipper.stripe_customer_id is not None
            return shipper.stripe_customer_id

    def new_payment(
        self,
        amount: int = 10000,
        carrier_amount: int = 8000,
        currency: str = "usd",
        payment_method: str | None = "pm_card_bypassPending",
        load: str | None = None,
    ) -> int:
        with transaction(self.sessions) as session:
            payment = charges.create_payment(
                session,
                shipper_id=self.shipper_id,
                carrier_id=self.carrier_id,
                load_reference=load or f"load-{amount}-{currency}-{uuid.uuid4().hex[:12]}",
                amount=Money(amount, currency),
                carrier_amount=carrier_amount,
                payment_method=payment_method,
            )
            return payment.id

    def paid(self, amount: int = 10000, carrier_amount: int = 8000, currency: str = "usd") -> int:
        payment_id = self.new_payment(amount, carrier_amount, currency)
        assert charges.advance_payment(self.sessions, self.gateway, payment_id) == "succeeded"
        return payment_id


@pytest.fixture
def market(sessions: sessionmaker[Session], gateway: StripeGateway, stripe_sim: Any) -> Market:
    with transaction(sessions) as session:
        shipper = parties.create_shipper(
            session, name="Acme Foods", email="ap@acme.test", external_id="acme"
        )
        carrier = parties.create_carrier(
            session,
            name="Road Runner LLC",
            email="pay@rr.test",
            country="US",
            default_currency="usd",
        )
        parties.request_connected_account(session, carrier.id)
    parties.ensure_customer(sessions, gateway, shipper.id)
    account = parties.ensure_connected_account(sessions, gateway, carrier.id)
    market = Market(sessions, gateway, stripe_sim.url, shipper.id, carrier.id, account)
    market.control(f"accounts/{account}/complete_onboarding")
    parties.refresh_connected_account(sessions, gateway, account)
    return market
