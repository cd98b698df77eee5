"""The marketplace's parties and what they trade: shippers, carriers, loads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column, updated_at_column

PAYOUT_METHODS = ("standard", "instant")


class Shipper(Base):
    """A customer who pays for loads; mirrors a Stripe Customer."""

    __tablename__ = "shippers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Carrier(Base):
    """A trucking company paid through a Stripe Connect (Express) connected account."""

    __tablename__ = "carriers"
    __table_args__ = (
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso"),
        CheckConstraint("default_currency ~ '^[a-z]{3}$'", name="default_currency_iso"),
        CheckConstraint(f"payout_method IN {PAYOUT_METHODS}", name="payout_method_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    country: Mapped[str] = mapped_column(String(2))
    default_currency: Mapped[str] = mapped_column(String(3))
    stripe_account_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Stripe's account.updated is the source of truth for these two flags.
    charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    payout_method: Mapped[str] = mapped_column(
        String(16), default="standard", server_default="standard"
    )
    # Where the create-connected-account flow stands: not_requested until the API asks for
    # an account, then started, then finished (see payments/parties.py).
    recovery_point: Mapped[str] = mapped_column(
        String(32), default="not_requested", server_default="not_requested"
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Load(Base):
    """A freight load: what a shipper pays for and a carrier is paid to haul."""

    __tablename__ = "loads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    shipper_id: Mapped[int] = mapped_column(ForeignKey("shippers.id"), index=True)
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carriers.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
