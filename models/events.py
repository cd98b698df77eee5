"""Stripe webhook events, stored once by Stripe's event id before anything acts on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column
from models.statuses import in_check, status_column


class EventStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"
    # The event names our rows but its Stripe object is not ours (payments.ownership).
    OUT_OF_BAND = "out_of_band"


# Handled, one way or another: a redelivered event is not handled again.
FINAL_EVENT_STATUSES = frozenset(
    {EventStatus.PROCESSED, EventStatus.IGNORED, EventStatus.FAILED, EventStatus.OUT_OF_BAND}
)


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(in_check("status", EventStatus), name="status_known"),
        # The event poller's cursor: the newest event stored per account.
        Index("ix_webhook_events_account_created", "stripe_account", "stripe_created"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Stripe retries and duplicates deliveries; the unique id makes storing idempotent.
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    stripe_account: Mapped[str | None] = mapped_column(String(255))
    # Stripe's `created` of the event: handlers use it to ignore stale, out-of-order news.
    stripe_created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[EventStatus] = status_column(EventStatus, 16, EventStatus.RECEIVED, index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
