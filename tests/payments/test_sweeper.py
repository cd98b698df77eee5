"""What the sweeper picks up: work that has not moved, but not a bank debit waiting days for its
bank, whose outcome comes by webhook; that one only after PROCESSING_RECHECK_S without news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from payment_rows import a_payment

from models.db import transaction
from payments.sweeper import PROCESSING_RECHECK_S, find_stuck


def payment_in(sessions: Any, load: str, status: str, recovery_point: str, age_s: int) -> int:
    return a_payment(
        sessions,
        load,
        status=status,
        recovery_point=recovery_point,
        stripe_payment_intent_id=f"pi_{load}",
        updated_at=datetime.now(UTC) - timedelta(seconds=age_s),
    )


def test_a_debit_waiting_on_its_bank_is_not_read_again_on_every_sweep(sessions: Any) -> None:
    stalled = payment_in(sessions, "stalled", "pending", "started", 600)
    waiting = payment_in(sessions, "waiting", "processing", "intent_created", 600)
    silent = payment_in(
        sessions, "silent", "processing", "intent_created", PROCESSING_RECHECK_S + 60
    )
    done = payment_in(sessions, "done", "succeeded", "finished", 600)
    with transaction(sessions) as session:
        stuck = find_stuck(session, older_than_s=120).payments
    assert stalled in stuck and silent in stuck
    assert waiting not in stuck and done not in stuck
