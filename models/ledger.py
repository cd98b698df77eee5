"""The double-entry ledger: accounts, postings (journal transactions) and their lines.

Append-only. The database itself refuses an unbalanced posting (a deferred constraint trigger
checks each posting's debits equal its credits per currency at commit) and any UPDATE, DELETE
or TRUNCATE of postings and lines (see the initial migration). A correction is a new, reversing
posting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import (
    CURRENCY_CHECK,
    Base,
    created_at_column,
    currency_column,
    hour_bucket,
    money_column,
)

ACCOUNT_KINDS = ("asset", "liability", "revenue", "expense", "equity")
SIDES = ("debit", "credit")


class LedgerAccount(Base):
    """One account in one currency, e.g. `carrier_payable:17` in usd."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("code", "currency"),
        # Target of the lines' (account_id, currency) foreign key, so a line can only ever be
        # in its account's currency.
        UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        CheckConstraint(f"kind IN {ACCOUNT_KINDS}", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = currency_column()
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Posting(Base):
    """A journal transaction: two or more lines whose debits equal credits per currency.

    Postings that mirror Stripe activity carry Stripe's ids and Stripe's own `created` time
    as occurred_at, so a reconciliation day means the same thing on both sides.
    """

    __tablename__ = "ledger_postings"
    __table_args__ = (
        Index("ix_ledger_postings_occurred_at", "occurred_at"),
        Index("ix_ledger_postings_stripe_balance_transaction", "stripe_balance_transaction"),
        Index("ix_ledger_postings_stripe_source", "stripe_source"),
        # A reconciliation slice of one account's day reads its postings as index ranges:
        # account, each UTC hour of the window, then a contiguous range of the hash of the id
        # the posting claims first (reconciliation/slices.py).
        Index(
            "ix_ledger_postings_recon_slice",
            "stripe_account",
            text(hour_bucket("occurred_at")),
            text("hashtext(coalesce(stripe_source, stripe_balance_transaction, ''))"),
        ),
        # Payout failures are looked up by source for every payout a run reads.
        Index(
            "ix_ledger_postings_payout_failure_source",
            "stripe_source",
            postgresql_where=text("kind = 'payout_failure'"),
        ),
        # Postings that claim no Stripe id (booked by hand): few, read once per sliced run.
        Index(
            "ix_ledger_postings_claiming_nothing",
            "stripe_account",
            "occurred_at",
            postgresql_where=text("stripe_balance_transaction IS NULL AND stripe_source IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    # Makes "post this once" a database fact: a second attempt with the same key finds the
    # first posting instead of writing another (e.g. "charge:42" from the job or the webhook).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stripe_account: Mapped[str | None] = mapped_column(String(255))
    stripe_balance_transaction: Mapped[str | None] = mapped_column(String(255))
    stripe_source: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255))
    # A reversal names the posting it undoes; each posting can be reversed at most once.
    reverses_posting_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_postings.id"), unique=True
    )
    created_at: Mapped[datetime] = created_at_column()

    lines: Mapped[list[LedgerLine]] = relationship(
        back_populates="posting", order_by="LedgerLine.id"
    )


class LedgerLine(Base):
    """One side of a posting: a positive amount debited or credited to one account."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"side IN {SIDES}", name="side_known"),
        CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        ForeignKeyConstraint(
            ["account_id", "currency"],
            ["ledger_accounts.id", "ledger_accounts.currency"],
            name="fk_ledger_lines_account_currency",
        ),
        Index("ix_ledger_lines_account_id_currency", "account_id", "currency"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("ledger_postings.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    side: Mapped[str] = mapped_column(String(6))
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    memo: Mapped[str | None] = mapped_column(String(64))

    posting: Mapped[Posting] = relationship(back_populates="lines")
    account: Mapped[LedgerAccount] = relationship(
        foreign_keys=[account_id],
        primaryjoin="LedgerLine.account_id == LedgerAccount.id",
        lazy="joined",
    )
