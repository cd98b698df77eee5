"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('backend', 'finance', 'admin')", name=op.f("ck_api_keys_role_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_table(
        "carriers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("default_currency", sa.String(length=3), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=True),
        sa.Column("charges_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("payout_method", sa.String(length=16), server_default="standard", nullable=False),
        sa.Column(
            "recovery_point", sa.String(length=32), server_default="not_requested", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name=op.f("ck_carriers_country_iso")),
        sa.CheckConstraint(
            "default_currency ~ '^[a-z]{3}$'", name=op.f("ck_carriers_default_currency_iso")
        ),
        sa.CheckConstraint(
            "payout_method IN ('standard', 'instant')", name=op.f("ck_carriers_payout_method_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carriers")),
        sa.UniqueConstraint("stripe_account_id", name=op.f("uq_carriers_stripe_account_id")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_ledger_accounts_currency_iso")),
        sa.CheckConstraint(
            "kind IN ('asset', 'liability', 'revenue', 'expense', 'equity')",
            name=op.f("ck_ledger_accounts_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", "currency", name=op.f("uq_ledger_accounts_code_currency")),
        sa.UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stripe_account", sa.String(length=255), nullable=True),
        sa.Column("stripe_balance_transaction", sa.String(length=255), nullable=True),
        sa.Column("stripe_source", sa.String(length=255), nullable=True),
        sa.Column("stripe_payment_intent", sa.String(length=255), nullable=True),
        sa.Column("reverses_posting_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["reverses_posting_id"],
            ["ledger_postings.id"],
            name=op.f("fk_ledger_postings_reverses_posting_id_ledger_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_ledger_postings_dedupe_key")),
        sa.UniqueConstraint(
            "reverses_posting_id", name=op.f("uq_ledger_postings_reverses_posting_id")
        ),
    )
    op.create_index(
        "ix_ledger_postings_occurred_at", "ledger_postings", ["occurred_at"], unique=False
    )
    op.create_index(
        "ix_ledger_postings_stripe_balance_transaction",
        "ledger_postings",
        ["stripe_balance_transaction"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_postings_stripe_source", "ledger_postings", ["stripe_source"], unique=False
    )
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("stripe_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ledger_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("matched", sa.Integer(), server_default="0", nullable=False),
        sa.Column("discrepancy_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("totals", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("superseded_by_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'clean', 'discrepancies', 'failed')",
            name=op.f("ck_reconciliation_runs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_runs_superseded_by_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        "ix_reconciliation_runs_day_account",
        "reconciliation_runs",
        ["day", "account"],
        unique=False,
    )
    op.create_table(
        "shippers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shippers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_shippers_external_id")),
        sa.UniqueConstraint("stripe_customer_id", name=op.f("uq_shippers_stripe_customer_id")),
    )
    op.create_table(
        "stripe_balance_transactions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("reporting_category", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "currency ~ '^[a-z]{3}$'", name=op.f("ck_stripe_balance_transactions_currency_iso")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_balance_transactions")),
    )
    op.create_index(
        "ix_stripe_balance_transactions_account_created",
        "stripe_balance_transactions",
        ["account", "created"],
        unique=False,
    )
    op.create_index(
        op.f("ix_stripe_balance_transactions_source"),
        "stripe_balance_transactions",
        ["source"],
        unique=False,
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("stripe_account", sa.String(length=255), nullable=True),
        sa.Column("stripe_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="received", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'ignored', 'failed')",
            name=op.f("ck_webhook_events_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("stripe_event_id", name=op.f("uq_webhook_events_stripe_event_id")),
    )
    op.create_index(op.f("ix_webhook_events_status"), "webhook_events", ["status"], unique=False)
    op.create_index(op.f("ix_webhook_events_type"), "webhook_events", ["type"], unique=False)
    op.create_table(
        "api_idempotency_keys",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_method", sa.String(length=8), nullable=False),
        sa.Column("request_path", sa.String(length=500), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_idempotency_keys_api_key_id_api_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency_keys")),
        sa.UniqueConstraint(
            "api_key_id", "key", name=op.f("uq_api_idempotency_keys_api_key_id_key")
        ),
    )
    op.create_table(
        "discrepancies",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stripe_balance_transaction", sa.String(length=255), nullable=True),
        sa.Column("stripe_source", sa.String(length=255), nullable=True),
        sa.Column("ledger_refs", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("stripe_amount", sa.BigInteger(), nullable=True),
        sa.Column("ledger_amount", sa.BigInteger(), nullable=True),
        sa.Column("difference", sa.BigInteger(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_discrepancies_currency_iso")),
        sa.CheckConstraint(
            "kind IN ('missing_in_ledger', 'missing_in_stripe', 'amount_mismatch', 'fee_mismatch', 'currency_mismatch', 'duplicate_in_ledger', 'status_mismatch', 'unexpected_type', 'timing', 'probable_match')",
            name=op.f("ck_discrepancies_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')",
            name=op.f("ck_discrepancies_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_discrepancies_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discrepancies")),
    )
    op.create_index(
        op.f("ix_discrepancies_fingerprint"), "discrepancies", ["fingerprint"], unique=False
    )
    op.create_index(op.f("ix_discrepancies_run_id"), "discrepancies", ["run_id"], unique=False)
    op.create_table(
        "ledger_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("side", sa.String(length=6), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("memo", sa.String(length=64), nullable=True),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_ledger_lines_currency_iso")),
        sa.CheckConstraint("side IN ('debit', 'credit')", name=op.f("ck_ledger_lines_side_known")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id", "currency"],
            ["ledger_accounts.id", "ledger_accounts.currency"],
            name="fk_ledger_lines_account_currency",
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["ledger_postings.id"],
            name=op.f("fk_ledger_lines_posting_id_ledger_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_lines")),
    )
    op.create_index(
        "ix_ledger_lines_account_id_currency",
        "ledger_lines",
        ["account_id", "currency"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ledger_lines_posting_id"), "ledger_lines", ["posting_id"], unique=False
    )
    op.create_table(
        "loads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("shipper_id", sa.BigInteger(), nullable=False),
        sa.Column("carrier_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_loads_carrier_id_carriers")
        ),
        sa.ForeignKeyConstraint(
            ["shipper_id"], ["shippers.id"], name=op.f("fk_loads_shipper_id_shippers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loads")),
        sa.UniqueConstraint("external_id", name=op.f("uq_loads_external_id")),
    )
    op.create_index(op.f("ix_loads_carrier_id"), "loads", ["carrier_id"], unique=False)
    op.create_index(op.f("ix_loads_shipper_id"), "loads", ["shipper_id"], unique=False)
    op.create_table(
        "payout_batches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("carrier_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("flow", sa.String(length=16), server_default="batch", nullable=False),
        sa.Column("receivable_offset", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("method", sa.String(length=16), server_default="standard", nullable=False),
        sa.Column("status", sa.String(length=32), server_default="pending", nullable=False),
        sa.Column("recovery_point", sa.String(length=32), server_default="started", nullable=False),
        sa.Column("stripe_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_payout_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_payout_batches_currency_iso")),
        sa.CheckConstraint(
            "flow IN ('batch', 'transfer', 'payout')", name=op.f("ck_payout_batches_flow_known")
        ),
        sa.CheckConstraint(
            "method IN ('standard', 'instant')", name=op.f("ck_payout_batches_method_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'transferred', 'paid', 'failed')",
            name=op.f("ck_payout_batches_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payout_batches_amount_positive")),
        sa.CheckConstraint(
            "receivable_offset >= 0", name=op.f("ck_payout_batches_receivable_offset_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_payout_batches_carrier_id_carriers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batches")),
        sa.UniqueConstraint("stripe_payout_id", name=op.f("uq_payout_batches_stripe_payout_id")),
        sa.UniqueConstraint(
            "stripe_transfer_id", name=op.f("uq_payout_batches_stripe_transfer_id")
        ),
    )
    op.create_index(
        op.f("ix_payout_batches_carrier_id"), "payout_batches", ["carrier_id"], unique=False
    )
    op.create_index(
        "uq_payout_batches_carrier_currency_period",
        "payout_batches",
        ["carrier_id", "currency", "period"],
        unique=True,
        postgresql_where=sa.text("flow = 'batch'"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("load_id", sa.BigInteger(), nullable=False),
        sa.Column("shipper_id", sa.BigInteger(), nullable=False),
        sa.Column("carrier_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("carrier_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("payment_method", sa.String(length=255), nullable=True),
        sa.Column("confirm", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("status", sa.String(length=32), server_default="pending", nullable=False),
        sa.Column("recovery_point", sa.String(length=32), server_default="started", nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_balance_transaction_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_payments_currency_iso")),
        sa.CheckConstraint(
            "status IN ('pending', 'requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled', 'failed')",
            name=op.f("ck_payments_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount",
            name=op.f("ck_payments_refunded_within"),
        ),
        sa.CheckConstraint(
            "carrier_amount >= 0 AND carrier_amount <= amount",
            name=op.f("ck_payments_carrier_amount_within"),
        ),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_payments_carrier_id_carriers")
        ),
        sa.ForeignKeyConstraint(["load_id"], ["loads.id"], name=op.f("fk_payments_load_id_loads")),
        sa.ForeignKeyConstraint(
            ["shipper_id"], ["shippers.id"], name=op.f("fk_payments_shipper_id_shippers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("stripe_charge_id", name=op.f("uq_payments_stripe_charge_id")),
        sa.UniqueConstraint(
            "stripe_payment_intent_id", name=op.f("uq_payments_stripe_payment_intent_id")
        ),
    )
    op.create_index(op.f("ix_payments_carrier_id"), "payments", ["carrier_id"], unique=False)
    op.create_index(op.f("ix_payments_load_id"), "payments", ["load_id"], unique=False)
    op.create_index(op.f("ix_payments_shipper_id"), "payments", ["shipper_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="pending", nullable=False),
        sa.Column("recovery_point", sa.String(length=32), server_default="started", nullable=False),
        sa.Column("stripe_refund_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_balance_transaction_id", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_refunds_currency_iso")),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'canceled')",
            name=op.f("ck_refunds_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("stripe_refund_id", name=op.f("uq_refunds_stripe_refund_id")),
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refunds_payment_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_payments_shipper_id"), table_name="payments")
    op.drop_index(op.f("ix_payments_load_id"), table_name="payments")
    op.drop_index(op.f("ix_payments_carrier_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(
        "uq_payout_batches_carrier_currency_period",
        table_name="payout_batches",
        postgresql_where=sa.text("flow = 'batch'"),
    )
    op.drop_index(op.f("ix_payout_batches_carrier_id"), table_name="payout_batches")
    op.drop_table("payout_batches")
    op.drop_index(op.f("ix_loads_shipper_id"), table_name="loads")
    op.drop_index(op.f("ix_loads_carrier_id"), table_name="loads")
    op.drop_table("loads")
    op.drop_index(op.f("ix_ledger_lines_posting_id"), table_name="ledger_lines")
    op.drop_index("ix_ledger_lines_account_id_currency", table_name="ledger_lines")
    op.drop_table("ledger_lines")
    op.drop_index(op.f("ix_discrepancies_run_id"), table_name="discrepancies")
    op.drop_index(op.f("ix_discrepancies_fingerprint"), table_name="discrepancies")
    op.drop_table("discrepancies")
    op.drop_table("api_idempotency_keys")
    op.drop_index(op.f("ix_webhook_events_type"), table_name="webhook_events")
    op.drop_index(op.f("ix_webhook_events_status"), table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_index(
        op.f("ix_stripe_balance_transactions_source"), table_name="stripe_balance_transactions"
    )
    op.drop_index(
        "ix_stripe_balance_transactions_account_created", table_name="stripe_balance_transactions"
    )
    op.drop_table("stripe_balance_transactions")
    op.drop_table("shippers")
    op.drop_index("ix_reconciliation_runs_day_account", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
    op.drop_index("ix_ledger_postings_stripe_source", table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_stripe_balance_transaction", table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_occurred_at", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_accounts")
    op.drop_table("carriers")
    op.drop_table("api_keys")
