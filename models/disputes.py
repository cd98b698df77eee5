"""Disputes (chargebacks) as Stripe reports them, for finance to follow to their end.

One row per Stripe dispute, kept up to date from its events; the money it moved (withdrawal,
fee, reinstatement) is in the ledger (payments/disputes.py). Amounts in minor units.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    CURRENCY_CHECK,
    Base,
    created_at_column,
    currency_column,
    money_column,
    updated_at_column,
)


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (CheckConstraint(CURRENCY_CHECK, name="currency_iso"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_account: Mapped[str | None] = mapped_column(String(255))  # NULL = the platform
    stripe_charge_id: Mapped[str] = mapped_column(String(255), index=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    reason: Mapped[str | None] = mapped_column(String(64))
    # Stripe's words: warning_needs_response, needs_response, under_review, won, lost, …
    status: Mapped[str] = mapped_column(String(32))
    evidence_due_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stripe_created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
