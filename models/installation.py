"""This installation's identity towards Stripe: one row, created once by migration 0007."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column


class Installation(Base):
    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # Prefix of every Stripe idempotency key this database's rows send (payments.installation).
    key_namespace: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
