"""Finance's work on reconciliation findings: an append-only audit trail.

One row per thing a person did: acknowledged, resolved (with a note), reopened, accepted and
booked a discrepancy (the adjusting posting is named), or asked for a day to be re-run. Rows
are never updated or deleted (PostgreSQL refuses it, see migration 0005). A discrepancy's
history reads across re-runs of its day by (day, account, fingerprint): the same finding in a
new run has the same fingerprint.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column

CASE_ACTIONS = ("acknowledge", "resolve", "reopen", "accept_and_book", "rerun_requested")


class DiscrepancyAction(Base):
    __tablename__ = "discrepancy_actions"
    __table_args__ = (
        CheckConstraint(f"action IN {CASE_ACTIONS}", name="action_known"),
        # Every action but a re-run request is about one discrepancy.
        CheckConstraint(
            "action = 'rerun_requested'"
            " OR (discrepancy_id IS NOT NULL AND fingerprint IS NOT NULL)",
            name="names_discrepancy",
        ),
        # A resolution, or booking an adjustment, always says why.
        CheckConstraint(
            "action NOT IN ('resolve', 'accept_and_book') OR length(btrim(note)) > 0",
            name="note_required",
        ),
        Index("ix_discrepancy_actions_day_account_fingerprint", "day", "account", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    account: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliation_runs.id"))
    discrepancy_id: Mapped[int | None] = mapped_column(ForeignKey("discrepancies.id"))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # The adjusting posting that "accept and book" wrote.
    posting_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_postings.id"))
    # Who: the API key the person signed in with (its name and non-secret prefix).
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = created_at_column()
