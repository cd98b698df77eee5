"""Scheduled runs: one row per (job, period), the database half of "exactly once per period".

The scheduler may fire a job twice (two scheduler processes started by mistake, a restart
mid-period, a redelivered message, the catch-up check). The actor that does the work takes an
advisory lock on (job, period) and claims this row in the same transaction as its effect, so
the effect and `done` commit together; a second claim of a done period is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column
from models.statuses import in_check, status_column


class ScheduledRunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ScheduledRun(Base):
    __tablename__ = "scheduled_runs"
    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint(in_check("status", ScheduledRunStatus), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # nightly_reconciliation, payout_batching, sweep
    job: Mapped[str] = mapped_column(String(64))
    # The period the run covers: a day (2026-03-08) or, for the sweeper, a minute.
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[ScheduledRunStatus] = status_column(
        ScheduledRunStatus, 16, ScheduledRunStatus.RUNNING
    )
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    error: Mapped[str | None] = mapped_column(Text)
    # What the run did (accounts reconciled, batches created): for operators, not for logic.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
