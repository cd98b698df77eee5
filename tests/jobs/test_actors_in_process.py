"""The real actors on the project's broker, run by in-process Dramatiq workers."""

from __future__ import annotations

from typing import Any

import redis

from jobs.enqueue import send_after_commit
from jobs.messages import ADVANCE_PAYMENT, ActorRef
from jobs.sweeper import sweep
from models import Carrier, Payment, Shipper
from models.db import transaction
from models.money import Money
from payments import charges, parties


def accept_payment(sessions: Any, shipper_id: int, carrier_id: int, load: str) -> int:
    with transaction(sessions) as session:
        return charges.create_payment(
            session,
            shipper_id=shipper_id,
            carrier_id=carrier_id,
            load_reference=load,
            amount=Money(5000, "usd"),
            carrier_amount=4000,
            payment_method="pm_card_bypassPending",
        ).id


def marketplace(sessions: Any) -> tuple[int, int]:
    with transaction(sessions) as session:
        shipper = parties.create_shipper(session, name="S", email="s@x.test", external_id="s")
        carrier = parties.create_carrier(
            session, name="C", email="c@x.test", country="US", default_currency="usd"
        )
        return shipper.id, carrier.id


def test_an_enqueued_payment_is_charged_by_a_worker(sessions, broker, worker) -> None:
    shipper_id, carrier_id = marketplace(sessions)
    payment_id = accept_payment(sessions, shipper_id, carrier_id, "load-1")
    assert send_after_commit(broker, ADVANCE_PAYMENT, payment_id)
    broker.join("charges", timeout=30_000)
    worker.join()
    with transaction(sessions) as session:
        assert session.get(Payment, payment_id).status == "succeeded"  # type: ignore[union-attr]


def test_the_sweeper_finishes_work_whose_message_was_never_sent(sessions, broker, worker) -> None:
    shipper_id, carrier_id = marketplace(sessions)
    with transaction(sessions) as session:
        parties.request_connected_account(session, carrier_id)
    # Accepted and committed, but the process died before sending (or Redis was down).
    payment_id = accept_payment(sessions, shipper_id, carrier_id, "load-2")
    assert sweep(older_than_s=0) == 3  # the customer, the account, the payment
    for queue in ("customers", "accounts", "charges"):
        broker.join(queue, timeout=30_000)
    worker.join()
    with transaction(sessions) as session:
        assert session.get(Payment, payment_id).status == "succeeded"  # type: ignore[union-attr]
        assert session.get(Shipper, shipper_id).stripe_customer_id  # type: ignore[union-attr]
        assert session.get(Carrier, carrier_id).stripe_account_id  # type: ignore[union-attr]
    assert sweep(older_than_s=0) == 0


def test_an_unreachable_broker_never_fails_the_caller() -> None:
    from dramatiq.brokers.redis import RedisBroker

    dead = RedisBroker(client=redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5))
    assert send_after_commit(dead, ActorRef("nowhere_noop", "nowhere"), 1) is False
