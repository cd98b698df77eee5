"""Needs attention: park a money row for a person, and let a person retry or cancel it.

A parked row (attention_reason / attention_at set) is left alone by the sweeper; the jobs
that drive it return at once. It is logged as an alert when parked. Retry clears the mark and
the caller enqueues the row's job again; cancel gives the row up (status canceled, or failed
for a payout batch) without any Stripe call. Both are recorded in attention_actions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AttentionAction, Payment, PayoutBatch, Refund
from models.db import transaction
from models.payments import PaymentStatus, PayoutBatchStatus, RefundStatus
from payments.errors import InvalidOperation, NotFound

log = logging.getLogger(__name__)

Row = Payment | Refund | PayoutBatch
KINDS: dict[str, type[Payment] | type[Refund] | type[PayoutBatch]] = {
    "payment": Payment,
    "refund": Refund,
    "payout_batch": PayoutBatch,
}
MAX_REASON = 2000


def _model(kind: str) -> type[Payment] | type[Refund] | type[PayoutBatch]:
    model = KINDS.get(kind)
    if model is None:
        raise InvalidOperation(f"kind must be one of {', '.join(KINDS)}")
    return model


def _get(session: Session, kind: str, row_id: int) -> Row | None:
    return cast(Row | None, session.get(_model(kind), row_id, with_for_update=True))


def park(session: Session, kind: str, row: Row, reason: str) -> None:
    """Mark a locked row as needing a person (once; a second reason is only logged)."""
    if row.attention_at is None:
        row.attention_reason = reason[:MAX_REASON]
        row.attention_at = datetime.now(UTC)
    log.error(
        "needs attention: %s %s: %s",
        kind,
        row.id,
        reason,
        extra={"event": "payments.needs_attention", "kind": kind, "row_id": row.id},
    )


def park_row(sessions: sessionmaker[Session], kind: str, row_id: int, reason: str) -> bool:
    """Park a row unless it is finished already; True when it is (now) parked."""
    with transaction(sessions) as session:
        row = _get(session, kind, row_id)
        if row is None or row.recovery_point == "finished":
            return False
        park(session, kind, row, reason)
        return True


@dataclass(frozen=True)
class Parked:
    kind: str
    id: int
    status: str
    reason: str
    since: datetime


def parked(session: Session, limit: int = 500) -> list[Parked]:
    out: list[Parked] = []
    for kind, model in KINDS.items():
        query = select(model).where(model.attention_at.is_not(None)).order_by(model.id)
        for row in cast(list[Row], session.scalars(query.limit(limit)).all()):
            assert row.attention_reason is not None and row.attention_at is not None
            out.append(Parked(kind, row.id, row.status, row.attention_reason, row.attention_at))
    return out


def _parked_row(session: Session, kind: str, row_id: int) -> Row:
    row = _get(session, kind, row_id)
    if row is None:
        raise NotFound(f"no {kind} {row_id}")
    if row.attention_at is None:
        raise InvalidOperation(f"{kind} {row_id} does not need attention")
    return row


def _record(
    session: Session, kind: str, row: Row, action: str, actor: str, note: str | None
) -> None:
    if not actor.strip():
        raise InvalidOperation("say who acts (actor)")
    assert row.attention_reason is not None
    session.add(
        AttentionAction(
            row_kind=kind,
            row_id=row.id,
            action=action,
            attention_reason=row.attention_reason,
            actor=actor.strip(),
            note=note,
        )
    )
    row.attention_reason = None
    row.attention_at = None
    log.warning(
        "%s %s %s by %s",
        action,
        kind,
        row.id,
        actor,
        extra={"event": f"payments.attention_{action}", "kind": kind, "row_id": row.id},
    )


def retry(session: Session, kind: str, row_id: int, *, actor: str, note: str | None) -> Row:
    """Clear the mark so the row's job may run again (the caller enqueues it after commit).
    The job looks up what Stripe did before sending anything, as after any unknown outcome."""
    row = _parked_row(session, kind, row_id)
    _record(session, kind, row, "retry", actor, note)
    return row


def cancel(session: Session, kind: str, row_id: int, *, actor: str, note: str | None) -> Row:
    """Give the row up without calling Stripe: a person has settled it by other means."""
    row = _parked_row(session, kind, row_id)
    _record(session, kind, row, "cancel", actor, note)
    if isinstance(row, PayoutBatch):
        row.status = PayoutBatchStatus.FAILED
        row.failure_code = "canceled_by_operator"
        row.failure_message = note or "canceled by an operator"
    elif isinstance(row, Payment):
        row.status = PaymentStatus.CANCELED
        row.failure_code = "canceled_by_operator"
        row.failure_message = note or "canceled by an operator"
    else:
        row.status = RefundStatus.CANCELED
        row.failure_reason = note or "canceled by an operator"
    row.recovery_point = "finished"
    return row
