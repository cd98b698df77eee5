"""Money in flight: payments (PaymentIntents), refunds and carrier payout batches.

Each row is a small state machine: `status` is what users read; `recovery_point` is where the
job that drives it resumes after a crash (the "atomic phases" pattern).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.attention import ATTENTION_CHECK, NeedsAttention
from models.base import (
    CURRENCY_CHECK,
    Base,
    created_at_column,
    currency_column,
    money_column,
    updated_at_column,
)
from models.statuses import in_check, sql_list, status_column


class PaymentStatus(StrEnum):
    """Stripe's PaymentIntent words, plus `pending` (not yet at Stripe) and `failed` (declined)."""

    PENDING = "pending"
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    FAILED = "failed"


# No later event changes these (a failed payment may still be confirmed with a new method).
FINAL_PAYMENT_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})
# A payment in these does not count against charging its load again.
ENDED_PAYMENT_STATUSES = (PaymentStatus.FAILED, PaymentStatus.CANCELED)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# Stripe's refund statuses that no later event changes.
FINAL_REFUND_STATUSES = frozenset(
    {RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED}
)
# A refund in these reserves nothing of the payment's refundable amount.
ENDED_REFUND_STATUSES = (RefundStatus.FAILED, RefundStatus.CANCELED)


class PayoutBatchStatus(StrEnum):
    PENDING = "pending"
    TRANSFERRED = "transferred"
    PAID = "paid"
    FAILED = "failed"


# The words as plain strings, for request validation and the API schema.
PAYMENT_STATUSES = tuple(status.value for status in PaymentStatus)
REFUND_STATUSES = tuple(status.value for status in RefundStatus)
PAYOUT_BATCH_STATUSES = tuple(status.value for status in PayoutBatchStatus)
# batch: the nightly transfer-then-payout; transfer / payout: one step asked for over the API.
PAYOUT_FLOWS = ("batch", "transfer", "payout")
SETTLEMENT_CURRENCY_CHECK = "settlement_currency IS NULL OR settlement_currency ~ '^[a-z]{3}$'"
# An exchange rate is not money: a decimal, exactly as Stripe stated it (migration 0006).
EXCHANGE_RATE = Numeric(24, 12)


class Payment(NeedsAttention, Base):
    """Our mirror of one Stripe PaymentIntent for one load."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "carrier_amount >= 0 AND carrier_amount <= amount", name="carrier_amount_within"
        ),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount", name="refunded_within"
        ),
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        CheckConstraint(in_check("status", PaymentStatus), name="status_known"),
        CheckConstraint(ATTENTION_CHECK, name="attention_complete"),
        CheckConstraint(SETTLEMENT_CURRENCY_CHECK, name="settlement_currency_iso"),
        # One live payment per load: another only after the earlier ones failed or were
        # canceled, or when the request gave a reason to charge the load again.
        Index(
            "uq_payments_one_live_per_load",
            "load_id",
            unique=True,
            postgresql_where=text(
                f"status NOT IN {sql_list(ENDED_PAYMENT_STATUSES)}"
                " AND additional_charge_reason IS NULL"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.id"), index=True)
    shipper_id: Mapped[int] = mapped_column(ForeignKey("shippers.id"), index=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"), index=True)
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    carrier_amount: Mapped[int] = money_column()
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    description: Mapped[str | None] = mapped_column(Text)
    # A PaymentMethod id (pm_…): a token, never card data.
    payment_method: Mapped[str | None] = mapped_column(String(255))
    confirm: Mapped[bool] = mapped_column(default=True, server_default="true")
    status: Mapped[PaymentStatus] = status_column(PaymentStatus, 32, PaymentStatus.PENDING)
    recovery_point: Mapped[str] = mapped_column(
        String(32), default="started", server_default="started"
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_balance_transaction_id: Mapped[str | None] = mapped_column(String(255))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    request_id: Mapped[str | None] = mapped_column(String(64))
    # What Stripe moved (the balance transaction), beside the presentment amount/currency above:
    # in the settlement currency, fee incl. any conversion fee, the rate when converted.
    settlement_amount: Mapped[int | None] = money_column(nullable=True)
    settlement_fee: Mapped[int | None] = money_column(nullable=True)
    settlement_currency: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(EXCHANGE_RATE)
    # The carrier's share as booked to their payable, in the settlement currency.
    carrier_settlement_amount: Mapped[int | None] = money_column(nullable=True)
    # Why this load is charged again although an earlier payment of it is live.
    additional_charge_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Refund(NeedsAttention, Base):
    """A full or partial refund of a payment; mirrors a Stripe Refund."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        CheckConstraint(in_check("status", RefundStatus), name="status_known"),
        CheckConstraint(ATTENTION_CHECK, name="attention_complete"),
        CheckConstraint(SETTLEMENT_CURRENCY_CHECK, name="settlement_currency_iso"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    reason: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[RefundStatus] = status_column(RefundStatus, 32, RefundStatus.PENDING)
    recovery_point: Mapped[str] = mapped_column(
        String(32), default="started", server_default="started"
    )
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_balance_transaction_id: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # What Stripe moved, in the settlement currency, at the refund's own day's rate.
    settlement_amount: Mapped[int | None] = money_column(nullable=True)
    settlement_currency: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(EXCHANGE_RATE)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PayoutBatch(NeedsAttention, Base):
    """Money to a carrier: a transfer to their connected account, then a payout to their bank.

    The nightly batch does both steps; the API may ask for either alone (`flow`).
    """

    __tablename__ = "payout_batches"
    __table_args__ = (
        # One nightly batch per carrier, currency and period: a second scheduler is a no-op.
        Index(
            "uq_payout_batches_carrier_currency_period",
            "carrier_id",
            "currency",
            "period",
            unique=True,
            postgresql_where=text("flow = 'batch'"),
        ),
        CheckConstraint(f"flow IN {PAYOUT_FLOWS}", name="flow_known"),
        CheckConstraint("receivable_offset >= 0", name="receivable_offset_nonnegative"),
        # A nightly batch may only pay out (amount 0: nothing new to transfer) when it retries
        # a failed payout whose money is still on the carrier's connected balance.
        CheckConstraint(
            "amount > 0 OR (flow = 'batch' AND amount = 0 AND payout_amount > 0)",
            name="amount_valid",
        ),
        CheckConstraint(
            "payout_amount IS NULL OR payout_amount > 0", name="payout_amount_positive"
        ),
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        CheckConstraint(in_check("status", PayoutBatchStatus), name="status_known"),
        CheckConstraint("method IN ('standard', 'instant')", name="method_known"),
        CheckConstraint(ATTENTION_CHECK, name="attention_complete"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"), index=True)
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    # The batching period (a day for the nightly batch); with carrier and currency, the key
    # that makes a second scheduler run a no-op.
    period: Mapped[date] = mapped_column(Date)
    flow: Mapped[str] = mapped_column(String(16), default="batch", server_default="batch")
    # Refund receivables (carrier already paid) netted against this batch's transfer.
    receivable_offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Nightly batches: what the payout sends to the bank, which may exceed `amount` (the
    # transfer) by money a failed payout left on the connected balance. NULL: `amount`.
    payout_amount: Mapped[int | None] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16), default="standard", server_default="standard")
    status: Mapped[PayoutBatchStatus] = status_column(
        PayoutBatchStatus, 32, PayoutBatchStatus.PENDING
    )
    recovery_point: Mapped[str] = mapped_column(
        String(32), default="started", server_default="started"
    )
    stripe_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payout_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    # When finance was alerted that this batch failed (once per batch).
    alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
