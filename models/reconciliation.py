"""What reconciliation reads and writes: cached Stripe balance transactions, runs, discrepancies."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    CURRENCY_CHECK,
    Base,
    created_at_column,
    currency_column,
    hour_bucket,
    money_column,
)
from models.statuses import in_check, sql_list, status_column

DISCREPANCY_KINDS = (
    "missing_in_ledger",
    "missing_in_stripe",
    "amount_mismatch",
    "fee_mismatch",
    "currency_mismatch",
    "duplicate_in_ledger",
    "status_mismatch",
    "unexpected_type",
    "timing",
    "probable_match",
)


class RunStatus(StrEnum):
    RUNNING = "running"
    CLEAN = "clean"
    DISCREPANCIES = "discrepancies"
    FAILED = "failed"
    # Discrepancies, every one resolved by finance.
    RESOLVED = "resolved"


# A current run: finished, not failed.
CURRENT_RUN_STATUSES = (RunStatus.CLEAN, RunStatus.DISCREPANCIES, RunStatus.RESOLVED)


class DiscrepancyStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# What finance may do to a discrepancy: action -> (statuses it applies to, status it leaves).
DISCREPANCY_TRANSITIONS: dict[str, tuple[frozenset[DiscrepancyStatus], DiscrepancyStatus]] = {
    "acknowledge": (frozenset({DiscrepancyStatus.OPEN}), DiscrepancyStatus.ACKNOWLEDGED),
    "resolve": (
        frozenset({DiscrepancyStatus.OPEN, DiscrepancyStatus.ACKNOWLEDGED}),
        DiscrepancyStatus.RESOLVED,
    ),
    "reopen": (
        frozenset({DiscrepancyStatus.ACKNOWLEDGED, DiscrepancyStatus.RESOLVED}),
        DiscrepancyStatus.OPEN,
    ),
    "accept_and_book": (
        frozenset({DiscrepancyStatus.OPEN, DiscrepancyStatus.ACKNOWLEDGED}),
        DiscrepancyStatus.RESOLVED,
    ),
}
UNRESOLVED_DISCREPANCY_STATUSES = (DiscrepancyStatus.OPEN, DiscrepancyStatus.ACKNOWLEDGED)

# The words as plain strings, for request validation and the API schema.
RUN_STATUSES = tuple(status.value for status in RunStatus)
DISCREPANCY_STATUSES = tuple(status.value for status in DiscrepancyStatus)


class StripeBalanceTransaction(Base):
    """A local copy of one Stripe balance transaction, so a re-run fetches only what is new."""

    __tablename__ = "stripe_balance_transactions"
    __table_args__ = (
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        Index("ix_stripe_balance_transactions_account_created", "account", "created"),
        # A reconciliation slice reads its rows as index ranges: account, UTC hour, hash of
        # the row's source else its id (see models/ledger.py, reconciliation/slices.py).
        Index(
            "ix_stripe_balance_transactions_recon_slice",
            "account",
            text(hour_bucket("created")),
            text("hashtext(coalesce(source, id))"),
        ),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # txn_…
    # "platform" or the connected account's acct_… id.
    account: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    reporting_category: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(255), index=True)
    amount: Mapped[int] = money_column()
    fee: Mapped[int] = money_column()
    net: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    status: Mapped[str] = mapped_column(String(16))
    # For payouts: the payout's own status (paid, failed, in_transit, …), read with the row.
    source_status: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    available_on: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime] = created_at_column()


class ReconciliationRun(Base):
    """One reconciliation of one day for one account. A re-run supersedes, never overwrites."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        CheckConstraint(in_check("status", RunStatus), name="status_known"),
        Index("ix_reconciliation_runs_day_account", "day", "account"),
        # At most one current (not superseded) finished run per day and account.
        Index(
            "uq_reconciliation_runs_current",
            "day",
            "account",
            unique=True,
            postgresql_where=text(
                f"superseded_by_id IS NULL AND status IN {sql_list(CURRENT_RUN_STATUSES)}"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    # The file name, report run id or other detail of where Stripe's side came from.
    source_detail: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[RunStatus] = status_column(RunStatus, 16, RunStatus.RUNNING)
    # A large day runs as partitions (by currency) on several workers; the last one to finish
    # completes the run.
    partitions: Mapped[int] = mapped_column(default=1, server_default="1")
    partitions_done: Mapped[int] = mapped_column(default=0, server_default="0")
    stripe_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    ledger_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    matched: Mapped[int] = mapped_column(default=0, server_default="0")
    discrepancy_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Per-currency totals, integers in minor units: [{"currency", "stripe_amount", …}].
    totals: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliation_runs.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Discrepancy(Base):
    """One difference between Stripe and the ledger, explained for finance."""

    __tablename__ = "discrepancies"
    __table_args__ = (
        CheckConstraint(f"kind IN {DISCREPANCY_KINDS}", name="kind_known"),
        CheckConstraint(in_check("status", DiscrepancyStatus), name="status_known"),
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = currency_column()
    # "platform" or the connected acct_… the finding is about.
    account: Mapped[str | None] = mapped_column(String(255))
    stripe_type: Mapped[str | None] = mapped_column(String(64))
    # How the two sides were paired: balance_transaction, source or amount_time (None: unpaired).
    matched_by: Mapped[str | None] = mapped_column(String(32))
    ledger_currency: Mapped[str | None] = mapped_column(String(3))
    # Several ids (a group of Stripe rows) are joined with ", ", hence Text.
    stripe_balance_transaction: Mapped[str | None] = mapped_column(Text)
    stripe_source: Mapped[str | None] = mapped_column(String(255))
    ledger_refs: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    stripe_amount: Mapped[int | None] = money_column(nullable=True)
    ledger_amount: Mapped[int | None] = money_column(nullable=True)
    difference: Mapped[int | None] = money_column(nullable=True)
    stripe_fee: Mapped[int | None] = money_column(nullable=True)
    ledger_fee: Mapped[int | None] = money_column(nullable=True)
    explanation: Mapped[str] = mapped_column(Text)
    # Same fingerprint on a re-run of the day = the same discrepancy: its status carries over.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[DiscrepancyStatus] = status_column(DiscrepancyStatus, 16, DiscrepancyStatus.OPEN)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # The same finding in the run this one superseded, whose status and note were carried over.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("discrepancies.id"))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
