"""Needs attention: money rows (payments, refunds, payout batches) a person must look at.

A row that cannot be settled (Stripe's answer stays unknown, retries ran out, Stripe holds an
object carrying our marker that does not match the row) gets `attention_reason` and
`attention_at`. The sweeper leaves it alone until a person retries or cancels it; each such
decision is an append-only AttentionAction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column

# Both set or both unset: a reason always has a time, and the other way round.
ATTENTION_CHECK = "(attention_reason IS NULL) = (attention_at IS NULL)"
ATTENTION_KINDS = ("payment", "refund", "payout_batch")
ATTENTION_ACTIONS = ("retry", "cancel")


class NeedsAttention:
    """Columns of a row that may be parked for a person."""

    attention_reason: Mapped[str | None] = mapped_column(Text)
    attention_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AttentionAction(Base):
    """Who retried or canceled which parked row, and why (append-only)."""

    __tablename__ = "attention_actions"
    __table_args__ = (
        CheckConstraint(f"row_kind IN {ATTENTION_KINDS}", name="row_kind_known"),
        CheckConstraint(f"action IN {ATTENTION_ACTIONS}", name="action_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    row_kind: Mapped[str] = mapped_column(String(16))
    row_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(16))
    # The reason the row was parked with, kept beside the decision.
    attention_reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
