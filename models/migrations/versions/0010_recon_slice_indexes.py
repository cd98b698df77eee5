"""reconciliation slices read by index: hash-range indexes and two small partial indexes

- ix_ledger_postings_recon_slice / ix_stripe_balance_transactions_recon_slice: (account, UTC
  hour, hashtext of the slice key), so one hash slice of one account's day is a range scan per
  hour of the window instead of a scan of the whole day (reconciliation/slices.py);
- ix_ledger_postings_payout_failure_source: payout failures by source (the ledger loader's
  payout status), instead of a scan of every posting per run or slice;
- ix_ledger_postings_claiming_nothing: postings that claim no Stripe id, which planning a
  sliced run reads once.

Plain CREATE INDEX inside the upgrade's transaction: on a large ledger it holds off writes to
the two tables while it builds (about a minute per ten million rows).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from the models: a migration keeps the schema of its day.
HOUR = "date_bin('01:00:00'::interval, {}, '2000-01-01 00:00:00+00'::timestamp with time zone)"


def upgrade() -> None:
    op.create_index(
        "ix_ledger_postings_recon_slice",
        "ledger_postings",
        [
            "stripe_account",
            sa.text(HOUR.format("occurred_at")),
            sa.text("hashtext(coalesce(stripe_source, stripe_balance_transaction, ''))"),
        ],
    )
    op.create_index(
        "ix_stripe_balance_transactions_recon_slice",
        "stripe_balance_transactions",
        ["account", sa.text(HOUR.format("created")), sa.text("hashtext(coalesce(source, id))")],
    )
    op.create_index(
        "ix_ledger_postings_payout_failure_source",
        "ledger_postings",
        ["stripe_source"],
        postgresql_where=sa.text("kind = 'payout_failure'"),
    )
    op.create_index(
        "ix_ledger_postings_claiming_nothing",
        "ledger_postings",
        ["stripe_account", "occurred_at"],
        postgresql_where=sa.text("stripe_balance_transaction IS NULL AND stripe_source IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_postings_claiming_nothing", table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_payout_failure_source", table_name="ledger_postings")
    op.drop_index(
        "ix_stripe_balance_transactions_recon_slice", table_name="stripe_balance_transactions"
    )
    op.drop_index("ix_ledger_postings_recon_slice", table_name="ledger_postings")
