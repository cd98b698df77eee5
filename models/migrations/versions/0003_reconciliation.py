"""reconciliation: run windows, partitions and history; richer discrepancies; payout status

- stripe_balance_transactions.source_status: a payout's own status, cached with its row;
- reconciliation_runs: the window in UTC, the source detail (file name, report run), the
  partition counters of a run split across workers, when it was superseded, and a partial
  unique index allowing one current finished run per (day, account);
- discrepancies: account, Stripe type, how the sides were paired, both fees, the ledger's
  currency, and the discrepancy of the superseded run it carries status and notes from;
  stripe_balance_transaction becomes Text (a group of several Stripe rows lists every id).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "stripe_balance_transactions",
        sa.Column("source_status", sa.String(length=32), nullable=True),
    )
    with op.batch_alter_table("reconciliation_runs") as batch:
        batch.add_column(sa.Column("source_detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("window_start", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("window_end", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("partitions", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(
            sa.Column("partitions_done", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "uq_reconciliation_runs_current",
        "reconciliation_runs",
        ["day", "account"],
        unique=True,
        postgresql_where=sa.text(
            "superseded_by_id IS NULL AND status IN ('clean', 'discrepancies')"
        ),
    )
    with op.batch_alter_table("discrepancies") as batch:
        batch.add_column(sa.Column("account", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("stripe_type", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("matched_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("ledger_currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("stripe_fee", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("ledger_fee", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("carried_from_id", sa.BigInteger(), nullable=True))
        batch.alter_column(
            "stripe_balance_transaction",
            existing_type=sa.String(length=255),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch.create_foreign_key(
            op.f("fk_discrepancies_carried_from_id_discrepancies"),
            "discrepancies",
            ["carried_from_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("discrepancies") as batch:
        batch.drop_constraint(
            op.f("fk_discrepancies_carried_from_id_discrepancies"), type_="foreignkey"
        )
        batch.alter_column(
            "stripe_balance_transaction",
            existing_type=sa.Text(),
            type_=sa.String(length=255),
            existing_nullable=True,
        )
        for column in (
            "carried_from_id",
            "ledger_fee",
            "stripe_fee",
            "ledger_currency",
            "matched_by",
            "stripe_type",
            "account",
        ):
            batch.drop_column(column)
    op.drop_index("uq_reconciliation_runs_current", table_name="reconciliation_runs")
    with op.batch_alter_table("reconciliation_runs") as batch:
        for column in (
            "superseded_at",
            "partitions_done",
            "partitions",
            "window_end",
            "window_start",
            "source_detail",
        ):
            batch.drop_column(column)
    op.drop_column("stripe_balance_transactions", "source_status")
