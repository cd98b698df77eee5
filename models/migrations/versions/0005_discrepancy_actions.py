"""discrepancy actions: finance's append-only audit trail of work on reconciliation findings

- discrepancy_actions: who acknowledged, resolved, reopened or accepted-and-booked which
  discrepancy (by id and by fingerprint, so the trail reads across re-runs of the day), with
  the note and the adjusting posting; and who asked for a day to be re-run;
- like the ledger, the table is append-only: triggers refuse UPDATE, DELETE and TRUNCATE.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_FUNCTION = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is an audit trail: % refused; record a new action instead',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

TRIGGERS = [
    """
    CREATE TRIGGER discrepancy_actions_append_only
    BEFORE UPDATE OR DELETE ON discrepancy_actions
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
    """,
    """
    CREATE TRIGGER discrepancy_actions_no_truncate
    BEFORE TRUNCATE ON discrepancy_actions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
]


def upgrade() -> None:
    op.create_table(
        "discrepancy_actions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("discrepancy_id", sa.BigInteger(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("posting_id", sa.BigInteger(), nullable=True),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "action IN ('acknowledge', 'resolve', 'reopen', 'accept_and_book', 'rerun_requested')",
            name=op.f("ck_discrepancy_actions_action_known"),
        ),
        sa.CheckConstraint(
            "action = 'rerun_requested'"
            " OR (discrepancy_id IS NOT NULL AND fingerprint IS NOT NULL)",
            name=op.f("ck_discrepancy_actions_names_discrepancy"),
        ),
        sa.CheckConstraint(
            "action NOT IN ('resolve', 'accept_and_book') OR length(btrim(note)) > 0",
            name=op.f("ck_discrepancy_actions_note_required"),
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_discrepancy_actions_api_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["discrepancy_id"],
            ["discrepancies.id"],
            name=op.f("fk_discrepancy_actions_discrepancy_id_discrepancies"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["ledger_postings.id"],
            name=op.f("fk_discrepancy_actions_posting_id_ledger_postings"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_discrepancy_actions_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discrepancy_actions")),
    )
    op.create_index(
        "ix_discrepancy_actions_day_account_fingerprint",
        "discrepancy_actions",
        ["day", "account", "fingerprint"],
    )
    op.execute(REFUSE_FUNCTION)
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER discrepancy_actions_no_truncate ON discrepancy_actions")
    op.execute("DROP TRIGGER discrepancy_actions_append_only ON discrepancy_actions")
    op.execute("DROP FUNCTION audit_refuse_change()")
    op.drop_index(
        "ix_discrepancy_actions_day_account_fingerprint", table_name="discrepancy_actions"
    )
    op.drop_table("discrepancy_actions")
