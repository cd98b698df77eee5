"""scheduled runs: one row per (job, period); nightly batches that retry failed payouts

- scheduled_runs: the unique (job, period) row behind "exactly once per period" (see
  models/scheduling.py);
- payout_batches.payout_amount: what a nightly batch pays out, which may include money a failed
  payout left on the connected balance; a batch may transfer nothing (amount 0) when it only
  retries such a payout;
- webhook_events (stripe_account, stripe_created): the event poller's per-account cursor.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_scheduled_runs_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_runs")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_scheduled_runs_job_period")),
    )
    op.add_column("payout_batches", sa.Column("payout_amount", sa.BigInteger(), nullable=True))
    op.drop_constraint(op.f("ck_payout_batches_amount_positive"), "payout_batches", type_="check")
    op.create_check_constraint(
        op.f("ck_payout_batches_amount_valid"),
        "payout_batches",
        "amount > 0 OR (flow = 'batch' AND amount = 0 AND payout_amount > 0)",
    )
    op.create_check_constraint(
        op.f("ck_payout_batches_payout_amount_positive"),
        "payout_batches",
        "payout_amount IS NULL OR payout_amount > 0",
    )
    op.create_index(
        "ix_webhook_events_account_created",
        "webhook_events",
        ["stripe_account", "stripe_created"],
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_account_created", table_name="webhook_events")
    op.drop_constraint(
        op.f("ck_payout_batches_payout_amount_positive"), "payout_batches", type_="check"
    )
    op.drop_constraint(op.f("ck_payout_batches_amount_valid"), "payout_batches", type_="check")
    # Pay-out-only batches cannot exist under the old rule; refuse rather than delete money.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM payout_batches WHERE amount = 0) THEN"
        " RAISE EXCEPTION 'payout_batches holds pay-out-only batches (amount 0):"
        " downgrade below 0004 would lose them'; END IF; END $$"
    )
    op.create_check_constraint(
        op.f("ck_payout_batches_amount_positive"), "payout_batches", "amount > 0"
    )
    op.drop_column("payout_batches", "payout_amount")
    op.drop_table("scheduled_runs")
