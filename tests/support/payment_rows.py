"""A payment row in a chosen state, written straight to the database: for tests of what reads
payments (webhook receipt, the sweeper) without running a charge through Stripe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import Payment
from models.db import transaction
from models.money import Money
from payments import charges, parties


def a_payment(sessions: sessionmaker[Session], load: str, **columns: Any) -> int:
    """A usd payment for `load` (with a shipper and a carrier of its own), then `columns` set
    on its row (e.g. status, recovery_point, stripe_payment_intent_id, updated_at)."""
    with transaction(sessions) as session:
        shipper = parties.create_shipper(
            session, name=load, email=f"{load}@s.test", external_id=f"shipper-{load}"
        )
        carrier = parties.create_carrier(
            session, name=load, email=f"{load}@c.test", country="US", default_currency="usd"
        )
        payment_id = charges.create_payment(
            session,
            shipper_id=shipper.id,
            carrier_id=carrier.id,
            load_reference=load,
            amount=Money(20000, "usd"),
            carrier_amount=16000,
        ).id
    if columns:
        with transaction(sessions) as session:
            session.execute(update(Payment).where(Payment.id == payment_id).values(**columns))
    return payment_id
