"""hardening: installation key namespace, one live payment per load, sealed postings

- installation: one row holding this database's idempotency-key namespace, created once here,
  so two databases on one Stripe account never replay each other's requests;
- payments.additional_charge_reason, and a unique index allowing one live (not failed or
  canceled) payment per load unless the request named a reason for charging again; payments
  already duplicated before this rule are marked as such so the index can be built;
- api_idempotency_keys: unique per installation (key), as Stripe scopes keys to the account,
  not per API key; duplicates across keys keep their first row;
- api_keys.sessions_ended_at: signing out ends the key's finance sessions server-side;
- webhook_events may end `out_of_band` (a Stripe object naming our rows that is not ours);
- ledger lines may only be added to a posting written by the same transaction: a trigger
  refuses lines for a posting committed earlier.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_EVENT_STATUSES = "status IN ('received', 'processed', 'ignored', 'failed')"
NEW_EVENT_STATUSES = "status IN ('received', 'processed', 'ignored', 'failed', 'out_of_band')"
STATUS_CHECK = "ck_webhook_events_status_known"
LIVE_PAYMENT = "status NOT IN ('failed', 'canceled') AND additional_charge_reason IS NULL"

# A posting's row was written by this transaction (or one of its savepoints) exactly when the
# status of its xmin is "in progress": rows of other in-progress transactions are invisible.
# xmin is 32 bits; pg_xact_status wants the 64-bit id, rebuilt with the current epoch (it may
# be a savepoint's id, newer than the top-level one, or older by less than half the xid space).
SEALED_POSTING_FUNCTION = """
CREATE FUNCTION ledger_lines_refuse_sealed_posting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    posting_xmin bigint;
    current_full bigint := pg_current_xact_id()::text::bigint;
    posting_full bigint;
BEGIN
    SELECT xmin::text::bigint INTO posting_xmin FROM ledger_postings WHERE id = NEW.posting_id;
    IF posting_xmin IS NULL THEN
        RETURN NEW;  -- the foreign key reports the missing posting
    END IF;
    posting_full := ((current_full >> 32) << 32) | posting_xmin;
    IF posting_full > current_full + (1::bigint << 31) THEN
        posting_full := posting_full - (1::bigint << 32);
    ELSIF posting_full < current_full - (1::bigint << 31) THEN
        posting_full := posting_full + (1::bigint << 32);
    END IF;
    IF posting_full < 3
        OR pg_xact_status(posting_full::text::xid8) IS DISTINCT FROM 'in progress' THEN
        RAISE EXCEPTION 'ledger posting % was committed earlier: lines cannot be added to it;'
            ' book a new posting instead', NEW.posting_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("key_namespace", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_installation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    op.execute(
        "INSERT INTO installation (id, key_namespace)"
        " VALUES (1, replace(gen_random_uuid()::text, '-', ''))"
    )

    op.add_column(
        "payments", sa.Column("additional_charge_reason", sa.String(length=200), nullable=True)
    )
    op.execute(
        f"""
        UPDATE payments SET additional_charge_reason = 'charged again before migration 0007'
        WHERE {LIVE_PAYMENT} AND id <> (
            SELECT min(first.id) FROM payments AS first
            WHERE first.load_id = payments.load_id
              AND first.status NOT IN ('failed', 'canceled')
        )
        """
    )
    op.create_index(
        op.f("uq_payments_one_live_per_load"),
        "payments",
        ["load_id"],
        unique=True,
        postgresql_where=sa.text(LIVE_PAYMENT),
    )

    op.execute(
        "DELETE FROM api_idempotency_keys WHERE id NOT IN"
        " (SELECT min(id) FROM api_idempotency_keys GROUP BY key)"
    )
    op.drop_constraint(
        op.f("uq_api_idempotency_keys_api_key_id_key"), "api_idempotency_keys", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_api_idempotency_keys_key"), "api_idempotency_keys", ["key"]
    )

    op.add_column(
        "api_keys", sa.Column("sessions_ended_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_constraint(op.f(STATUS_CHECK), "webhook_events", type_="check")
    op.create_check_constraint(op.f(STATUS_CHECK), "webhook_events", NEW_EVENT_STATUSES)

    op.execute(SEALED_POSTING_FUNCTION)
    op.execute(
        """
        CREATE TRIGGER ledger_lines_posting_open
        BEFORE INSERT ON ledger_lines
        FOR EACH ROW EXECUTE FUNCTION ledger_lines_refuse_sealed_posting()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER ledger_lines_posting_open ON ledger_lines")
    op.execute("DROP FUNCTION ledger_lines_refuse_sealed_posting()")
    op.drop_column("api_keys", "sessions_ended_at")
    op.execute("UPDATE webhook_events SET status = 'ignored' WHERE status = 'out_of_band'")
    op.drop_constraint(op.f(STATUS_CHECK), "webhook_events", type_="check")
    op.create_check_constraint(op.f(STATUS_CHECK), "webhook_events", OLD_EVENT_STATUSES)
    op.drop_constraint(op.f("uq_api_idempotency_keys_key"), "api_idempotency_keys", type_="unique")
    op.create_unique_constraint(
        op.f("uq_api_idempotency_keys_api_key_id_key"),
        "api_idempotency_keys",
        ["api_key_id", "key"],
    )
    op.drop_index(op.f("uq_payments_one_live_per_load"), table_name="payments")
    op.drop_column("payments", "additional_charge_reason")
    op.drop_table("installation")
