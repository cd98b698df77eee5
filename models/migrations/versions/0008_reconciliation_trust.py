"""reconciliation finance can rely on: a `resolved` run status, and disputes

- reconciliation_runs.status may be `resolved`: the run found discrepancies and finance has
  resolved or accepted every one (a current run, like clean and discrepancies);
- payout_batches.alerted_at: when finance was alerted that the batch failed (once per batch);
- disputes: each Stripe dispute (chargeback), kept up to date from its events, for finance.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "('running', 'clean', 'discrepancies', 'failed')"
NEW_STATUSES = "('running', 'clean', 'discrepancies', 'failed', 'resolved')"


def _run_statuses(statuses: str, current: str) -> None:
    name = op.f("ck_reconciliation_runs_status_known")
    op.drop_constraint(name, "reconciliation_runs", type_="check")
    op.create_check_constraint(name, "reconciliation_runs", f"status IN {statuses}")
    op.drop_index("uq_reconciliation_runs_current", table_name="reconciliation_runs")
    op.create_index(
        "uq_reconciliation_runs_current",
        "reconciliation_runs",
        ["day", "account"],
        unique=True,
        postgresql_where=sa.text(f"superseded_by_id IS NULL AND status IN {current}"),
    )


def upgrade() -> None:
    _run_statuses(NEW_STATUSES, "('clean', 'discrepancies', 'resolved')")
    op.add_column(
        "payout_batches", sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_account", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("evidence_due_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stripe_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_disputes_currency_iso")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("stripe_dispute_id", name=op.f("uq_disputes_stripe_dispute_id")),
    )
    op.create_index(
        op.f("ix_disputes_stripe_charge_id"), "disputes", ["stripe_charge_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_disputes_stripe_charge_id"), table_name="disputes")
    op.drop_table("disputes")
    op.drop_column("payout_batches", "alerted_at")
    op.execute("UPDATE reconciliation_runs SET status = 'discrepancies' WHERE status = 'resolved'")
    _run_statuses(OLD_STATUSES, "('clean', 'discrepancies')")
