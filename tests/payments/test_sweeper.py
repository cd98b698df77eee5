"""What the sweeper picks up: work that has not moved, but not a bank debit waiting days for its
bank, whose outcome comes by webhook; that one only after PROCESSING_RECHECK_S without news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from models import Payment
from models.db import transaction
from models.money import Money
from models.payments import PaymentStatus
from payments import charges, parties
from payments.sweeper import PROCESSING_RECHECK_S, find_stuck


def payment_in(sessions: Any, load: str, status: PaymentStatus, recovery_point: str, age_s: int):
    with transaction(sessions) as session:
        shipper = parties.create_shipper(
            session, name=load, email=f"{load}@s.test", external_id=f"shipper-{load}"
        )
        carrier = parties.create_carrier(
            session, name=load, email=f"{load}@c.test", country="US", default_currency="usd"
        )
        payment = charges.create_payment(
            session,
            shipper_id=shipper.id,
            carrier_id=carrier.id,
            load_reference=load,
            amount=Money(20000, "usd"),
            carrier_amount=16000,
        )
        payment_id = payment.id
    with transaction(sessions) as session:
        session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(
                status=status,
                recovery_point=recovery_point,
                stripe_payment_intent_id=f"pi_{load}",
                updated_at=datetime.now(UTC) - timedelta(seconds=age_s),
            )
        )
    return payment_id


def test_a_debit_waiting_on_its_bank_is_not_read_again_on_every_sweep(sessions: Any) -> None:
    stalled = payment_in(sessions, "stalled", PaymentStatus.PENDING, "started", 600)
    waiting = payment_in(sessions, "waiting", PaymentStatus.PROCESSING, "intent_created", 600)
    silent = payment_in(
        sessions, "silent", PaymentStatus.PROCESSING, "intent_created", PROCESSING_RECHECK_S + 60
    )
    done = payment_in(sessions, "done", PaymentStatus.SUCCEEDED, "finished", 600)
    with transaction(sessions) as session:
        stuck = find_stuck(session, older_than_s=120).payments
    assert stalled in stuck and silent in stuck
    assert waiting not in stuck and done not in stuck
