"""Each state machine's StrEnum and the database's CHECK constraint agree, word for word.

The CHECK is the one the migrations created (the database is migrated, not built from the
models): its own expression, read back from PostgreSQL, accepts every member and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import WebhookEvent
from models.events import EventStatus
from models.payments import PaymentStatus, PayoutBatchStatus, RefundStatus
from models.reconciliation import DiscrepancyStatus, RunStatus
from models.scheduling import ScheduledRunStatus

MACHINES: list[tuple[str, type[StrEnum]]] = [
    ("payments", PaymentStatus),
    ("refunds", RefundStatus),
    ("payout_batches", PayoutBatchStatus),
    ("reconciliation_runs", RunStatus),
    ("discrepancies", DiscrepancyStatus),
    ("scheduled_runs", ScheduledRunStatus),
    ("webhook_events", EventStatus),
]
NOT_A_STATUS = ("", "Pending", "PENDING", "succeeded ", "unknown")


def check_accepts(db: Session, table: str, value: str) -> bool:
    """Whether the table's status CHECK, as PostgreSQL holds it, passes for `value`."""
    expression = db.scalar(
        text(
            "SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint"
            " WHERE conname = :name AND contype = 'c'"
        ),
        {"name": f"ck_{table}_status_known"},
    )
    assert expression is not None, f"{table} has no status CHECK"
    return bool(
        db.scalar(
            text(f"SELECT {expression} FROM (VALUES (CAST(:v AS varchar))) AS row(status)"),
            {"v": value},
        )
    )


@pytest.mark.parametrize(("table", "enum"), MACHINES, ids=[t for t, _ in MACHINES])
def test_the_check_accepts_every_member_and_nothing_else(
    db: Session, table: str, enum: type[StrEnum]
) -> None:
    assert [m for m in enum if not check_accepts(db, table, m.value)] == []
    assert [w for w in NOT_A_STATUS if check_accepts(db, table, w)] == []


def test_the_column_reads_and_writes_members(db: Session) -> None:
    event = WebhookEvent(
        stripe_event_id="evt_status_enum",
        type="payment_intent.succeeded",
        stripe_created=datetime.now(UTC),
        payload={},
    )
    db.add(event)
    db.flush()
    db.expire_all()
    stored = db.scalars(select(WebhookEvent).where(WebhookEvent.id == event.id)).one()
    assert type(stored.status) is EventStatus and stored.status is EventStatus.RECEIVED
    stored.status = EventStatus.OUT_OF_BAND
    db.flush()
    raw = db.scalar(text("SELECT status FROM webhook_events WHERE id = :id"), {"id": event.id})
    assert type(raw) is str and raw == "out_of_band"


def test_a_word_outside_the_enum_is_refused_by_the_database(db: Session) -> None:
    insert = text(
        "INSERT INTO webhook_events (stripe_event_id, type, stripe_created, payload, status)"
        " VALUES (:id, 'x', now(), '{}', :status)"
    )
    db.execute(insert, {"id": "evt_member", "status": EventStatus.PROCESSED.value})
    with pytest.raises(IntegrityError, match="ck_webhook_events_status_known"), db.begin_nested():
        db.execute(insert, {"id": "evt_not_a_member", "status": "handled"})
