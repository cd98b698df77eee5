"""needs attention: money rows parked for a person, and the audit trail of their decisions

- payments, refunds, payout_batches: attention_reason / attention_at (both or neither), set
  when a row cannot be settled or its retries ran out; the sweeper skips such rows;
- attention_actions: who retried or canceled which parked row, with the reason it was parked
  for and a note; append-only like discrepancy_actions (same refusing trigger function).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("payments", "refunds", "payout_batches")
ATTENTION_CHECK = "(attention_reason IS NULL) = (attention_at IS NULL)"

TRIGGERS = [
    """
    CREATE TRIGGER attention_actions_append_only
    BEFORE UPDATE OR DELETE ON attention_actions
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
    """,
    """
    CREATE TRIGGER attention_actions_no_truncate
    BEFORE TRUNCATE ON attention_actions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
]


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("attention_reason", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("attention_at", sa.DateTime(timezone=True), nullable=True))
        op.create_check_constraint(op.f(f"ck_{table}_attention_complete"), table, ATTENTION_CHECK)
    op.create_table(
        "attention_actions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("row_kind", sa.String(length=16), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("attention_reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "row_kind IN ('payment', 'refund', 'payout_batch')",
            name=op.f("ck_attention_actions_row_kind_known"),
        ),
        sa.CheckConstraint(
            "action IN ('retry', 'cancel')", name=op.f("ck_attention_actions_action_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attention_actions")),
    )
    op.create_index(
        op.f("ix_attention_actions_row_id"), "attention_actions", ["row_id"], unique=False
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f("ix_attention_actions_row_id"), table_name="attention_actions")
    op.drop_table("attention_actions")
    for table in TABLES:
        op.drop_constraint(op.f(f"ck_{table}_attention_complete"), table, type_="check")
        op.drop_column(table, "attention_at")
        op.drop_column(table, "attention_reason")
