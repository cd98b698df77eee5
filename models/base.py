"""Declarative base with a naming convention, so migrations name constraints predictably."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def money_column(*, nullable: bool = False) -> Mapped[int]:
    """An amount in the currency's minor unit. BIGINT: never Float, never Numeric."""
    return mapped_column(BigInteger, nullable=nullable)


def currency_column() -> Mapped[str]:
    return mapped_column(String(3), nullable=False)


CURRENCY_CHECK = "currency ~ '^[a-z]{3}$'"


def hour_bucket(column: str) -> str:
    """The UTC hour `column` (timestamptz) falls in, as an immutable SQL expression (date_bin,
    unlike date_trunc on a timestamptz, does not depend on the session's time zone), so it
    can lead an index that reconciliation's hash slices read by hour ranges. The interval is
    spelled as PostgreSQL prints it back, so the models compare equal to the migrations."""
    return (
        f"date_bin('01:00:00'::interval, {column},"
        " '2000-01-01 00:00:00+00'::timestamp with time zone)"
    )
