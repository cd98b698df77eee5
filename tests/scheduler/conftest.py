"""Fixtures for scheduler tests: a marketplace of onboarded carriers on stripe_sim, the cron
table on the project's broker, and helpers to read what was enqueued."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from models import PayoutBatch, ScheduledRun
from models.db import transaction
from models.money import Money
from payments import charges, parties, payouts, refunds
from payments.gateway import StripeGateway
from scheduler.config import ScheduleConfig, schedule_config
from scheduler.cron import CronTable
from scheduler.sender import Sender

_loads = itertools.count(1)


@dataclass
class Marketplace:
    """A shipper and carriers with connected accounts, driven through the real services."""

    sessions: sessionmaker[Session]
    gateway: StripeGateway
    sim_url: str
    shipper_id: int
    accounts: dict[int, str] = field(default_factory=dict)

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(f"{self.sim_url}/_sim/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def carrier(self, name: str, *, onboarded: bool = True, method: str = "standard") -> int:
        with transaction(self.sessions) as session:
            carrier = parties.create_carrier(
                session,
                name=name,
                email=f"{name.lower().replace(' ', '.')}@carriers.test",
                country="US",
                default_currency="usd",
                payout_method=method,
            )
            parties.request_connected_account(session, carrier.id)
        account = parties.ensure_connected_account(self.sessions, self.gateway, carrier.id)
        if onboarded:
            self.control(f"accounts/{account}/complete_onboarding")
            parties.refresh_connected_account(self.sessions, self.gateway, account)
        self.accounts[carrier.id] = account
        return carrier.id

    def pay(self, carrier_id: int, carrier_amount: int, currency: str = "usd") -> int:
        """A shipper pays a load; the carrier's share becomes payable to them."""
        amount = carrier_amount + max(carrier_amount // 4, 100)
        with transaction(self.sessions) as session:
            payment_id = charges.create_payment(
                session,
                shipper_id=self.shipper_id,
                carrier_id=carrier_id,
                load_reference=f"load-{next(_loads)}",
                amount=Money(amount, currency),
                carrier_amount=carrier_amount,
                payment_method="pm_card_bypassPending",
            ).id
        assert charges.advance_payment(self.sessions, self.gateway, payment_id) == "succeeded"
        return payment_id

    def refund(self, payment_id: int, amount: int) -> None:
        with transaction(self.sessions) as session:
            refund_id = refunds.request_refund(session, payment_id, amount=amount).id
        assert refunds.advance_refund(self.sessions, self.gateway, refund_id) == "succeeded"

    def advance(self, batch_id: int) -> str:
        return payouts.advance_batch(self.sessions, self.gateway, batch_id)

    def settle(self, days: int = 5) -> None:
        """Let the simulated banks answer: pending payouts arrive (or fail)."""
        self.control("clock", {"advance": days * 86400})

    def batches(self) -> list[PayoutBatch]:
        with self.sessions() as session:
            return list(session.scalars(select(PayoutBatch).order_by(PayoutBatch.id)))


def _marketplace(
    sessions: sessionmaker[Session], gateway: StripeGateway, sim_url: str
) -> Marketplace:
    with transaction(sessions) as session:
        shipper = parties.create_shipper(
            session, name="Acme Foods", email="ap@acme.test", external_id="acme"
        )
    parties.ensure_customer(sessions, gateway, shipper.id)
    return Marketplace(sessions, gateway, sim_url, shipper.id)


@pytest.fixture
def market_factory() -> Any:
    """market_factory(sessions, gateway, sim_url): a Marketplace on any simulator."""
    return _marketplace


@pytest.fixture
def market(sessions: sessionmaker[Session], gateway: StripeGateway, stripe_sim: Any) -> Marketplace:
    return _marketplace(sessions, gateway, stripe_sim.url)


def _config(**env: str) -> ScheduleConfig:
    return schedule_config(load_settings(env))


@pytest.fixture
def config_for() -> Any:
    """config_for(RECON_TIMEZONE=…, …): the scheduler's config from these settings."""
    return _config


@pytest.fixture
def table_for(broker: Any) -> Any:
    """table_for(**settings): a CronTable sending to the project's broker."""

    def make(**env: str) -> CronTable:
        return CronTable(_config(**env), Sender(broker))

    return make


@pytest.fixture
def queued(broker: Any) -> Any:
    """queued(queue): the messages waiting in a queue (not consumed), oldest first."""

    def read(queue: str) -> list[dramatiq.Message[Any]]:
        raw = broker.client.hvals(f"{broker.namespace}:{queue}.msgs")
        messages = [dramatiq.Message.decode(value) for value in raw]
        return sorted(messages, key=lambda m: m.message_timestamp)

    return read


@pytest.fixture
def scheduled_runs(sessions: sessionmaker[Session]) -> Any:
    """scheduled_runs(job=None): the scheduled_runs rows, by job and period."""

    def read(job: str | None = None) -> list[ScheduledRun]:
        with sessions() as session:
            query = select(ScheduledRun).order_by(ScheduledRun.job, ScheduledRun.period)
            if job is not None:
                query = query.where(ScheduledRun.job == job)
            return list(session.scalars(query))

    return read


@pytest.fixture
def scheduled_worker(
    broker: Any, sessions: sessionmaker[Session], gateway: StripeGateway, stripe_sim: Any
) -> Iterator[Any]:
    """In-process Dramatiq workers for the `scheduled` queue only: what they enqueue for other
    queues (reconcile_day, advance_batch) stays queued for the test to inspect. The nightly
    reconciliation asks the simulator which connected accounts were active."""
    from jobs import reconciliation as recon_jobs
    from jobs import runtime
    from reconciliation.stripe_http import StripeHTTP

    runtime.configure(sessions=sessions, gateway=gateway)
    recon_jobs.configure(StripeHTTP(stripe_sim.url, "sk_test_midway"))
    worker = dramatiq.Worker(broker, queues={"scheduled"}, worker_timeout=100, worker_threads=4)
    worker.start()
    yield worker
    worker.stop()
    recon_jobs.configure(None)
    runtime.configure()
