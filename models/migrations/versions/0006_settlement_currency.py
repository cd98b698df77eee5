"""settlement currency: what Stripe moved for a payment or refund, beside what was presented

- payments: settlement_amount, settlement_fee and settlement_currency (the balance
  transaction's amount, fee incl. any conversion fee, currency), exchange_rate (NULL when not
  converted) and carrier_settlement_amount (the carrier's share as booked, in the settlement
  currency); amount/currency stay the presentment amount the shipper paid;
- refunds: settlement_amount, settlement_currency, exchange_rate (a refund's own day's rate).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATE = sa.Numeric(24, 12)
CHECK = "settlement_currency IS NULL OR settlement_currency ~ '^[a-z]{3}$'"


def upgrade() -> None:
    for table in ("payments", "refunds"):
        op.add_column(table, sa.Column("settlement_amount", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("settlement_currency", sa.String(3), nullable=True))
        op.add_column(table, sa.Column("exchange_rate", RATE, nullable=True))
        op.create_check_constraint(op.f(f"ck_{table}_settlement_currency_iso"), table, CHECK)
    op.add_column("payments", sa.Column("settlement_fee", sa.BigInteger(), nullable=True))
    op.add_column(
        "payments", sa.Column("carrier_settlement_amount", sa.BigInteger(), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("payments", "carrier_settlement_amount")
    op.drop_column("payments", "settlement_fee")
    for table in ("refunds", "payments"):
        op.drop_constraint(op.f(f"ck_{table}_settlement_currency_iso"), table, type_="check")
        op.drop_column(table, "exchange_rate")
        op.drop_column(table, "settlement_currency")
        op.drop_column(table, "settlement_amount")
