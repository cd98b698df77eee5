from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import LedgerLine, Posting
from models.errors import UnknownCurrency
from models.money import Money
from payments import ledger
from payments.errors import (
    AccountKindConflict,
    InvalidLedgerLine,
    PostingNotFound,
    UnbalancedPosting,
)
from payments.ledger import Account, StripeRefs, credit, debit

STRIPE = Account("stripe_balance:platform", "asset")
FEES = Account("stripe_fees", "expense")
PAYABLE = Account("carrier_payable:7", "liability")
COMMISSION = Account("commission_revenue", "revenue")
AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def charge_lines(gross: int, fee: int, carrier: int, currency: str = "usd") -> list[ledger.Line]:
    return [
        debit(STRIPE, Money(gross - fee, currency), "net"),
        debit(FEES, Money(fee, currency), "fee"),
        credit(PAYABLE, Money(carrier, currency)),
        credit(COMMISSION, Money(gross - carrier, currency)),
    ]


def test_a_charge_posting_moves_every_balance(db: Session) -> None:
    posting = ledger.post(
        db,
        kind="charge",
        lines=charge_lines(10000, 320, 8000),
        occurred_at=AT,
        stripe=StripeRefs("txn_1", "ch_1", "pi_1", None),
    )
    assert [line.amount for line in posting.lines] == [9680, 320, 8000, 2000]
    assert posting.stripe_balance_transaction == "txn_1" and posting.occurred_at == AT
    assert ledger.balance(db, STRIPE.code, "usd") == Money(9680, "usd")
    assert ledger.balance(db, PAYABLE.code, "usd") == Money(-8000, "usd")
    assert ledger.balance(db, COMMISSION.code, "usd") == Money(-2000, "usd")
    assert ledger.balance(db, STRIPE.code, "eur") == Money(0, "eur")
    assert ledger.trial_balance(db) == {"usd": 0}


def test_balances_are_per_currency(db: Session) -> None:
    ledger.post(db, kind="charge", lines=charge_lines(10000, 320, 8000), occurred_at=AT)
    ledger.post(db, kind="charge", lines=charge_lines(5000, 180, 4000, "jpy"), occurred_at=AT)
    assert ledger.balances(db, "carrier_payable:") == {
        ("carrier_payable:7", "usd"): -8000,
        ("carrier_payable:7", "jpy"): -4000,
    }
    assert ledger.trial_balance(db) == {"usd": 0, "jpy": 0}


def test_reversal_restores_every_balance_and_happens_once(db: Session) -> None:
    posting = ledger.post(db, kind="charge", lines=charge_lines(10000, 320, 8000), occurred_at=AT)
    reversal = ledger.reverse(db, posting.id, occurred_at=AT)
    assert reversal.reverses_posting_id == posting.id
    assert [line.side for line in reversal.lines] == ["credit", "credit", "debit", "debit"]
    assert ledger.balances(db) == {
        (STRIPE.code, "usd"): 0,
        (FEES.code, "usd"): 0,
        (PAYABLE.code, "usd"): 0,
        (COMMISSION.code, "usd"): 0,
    }
    assert ledger.reverse(db, posting.id).id == reversal.id
    with pytest.raises(PostingNotFound):
        ledger.reverse(db, 999_999_999)


def test_the_same_dedupe_key_posts_once(db: Session) -> None:
    first = ledger.post(
        db, kind="charge", lines=charge_lines(10000, 320, 8000), occurred_at=AT, dedupe_key="c:1"
    )
    again = ledger.post(
        db, kind="charge", lines=charge_lines(10000, 320, 8000), occurred_at=AT, dedupe_key="c:1"
    )
    assert again.id == first.id
    assert db.scalar(select(func.count()).select_from(Posting)) == 1
    assert db.scalar(select(func.count()).select_from(LedgerLine)) == 4


@pytest.mark.parametrize(
    ("lines", "error", "message"),
    [
        ([debit(STRIPE, Money(100, "usd"))], UnbalancedPosting, "at least two lines"),
        (
            [debit(STRIPE, Money(100, "usd")), credit(COMMISSION, Money(99, "usd"))],
            UnbalancedPosting,
            "usd",
        ),
        (
            # Balanced in total, but not per currency: no conversion is ever implied.
            [debit(STRIPE, Money(100, "usd")), credit(COMMISSION, Money(100, "eur"))],
            UnbalancedPosting,
            "does not balance",
        ),
        (
            [debit(STRIPE, Money(0, "usd")), credit(COMMISSION, Money(0, "usd"))],
            InvalidLedgerLine,
            "positive",
        ),
        (
            [debit(STRIPE, Money(-100, "usd")), credit(COMMISSION, Money(-100, "usd"))],
            InvalidLedgerLine,
            "positive",
        ),
        (
            [
                ledger.Line(STRIPE, "sideways", Money(1, "usd")),  # type: ignore[arg-type]
                credit(COMMISSION, Money(1, "usd")),
            ],
            InvalidLedgerLine,
            "side",
        ),
    ],
)
def test_the_service_refuses_invalid_postings_and_writes_nothing(
    db: Session, lines: list[ledger.Line], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ledger.post(db, kind="charge", lines=lines, occurred_at=AT)
    assert db.scalar(select(func.count()).select_from(Posting)) == 0


def test_a_line_cannot_hold_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        debit(STRIPE, Money(100, "zzz"))


def test_naive_timestamps_are_refused(db: Session) -> None:
    with pytest.raises(InvalidLedgerLine, match="timezone"):
        ledger.post(
            db, kind="charge", lines=charge_lines(100, 3, 80), occurred_at=datetime(2026, 1, 1)
        )


def test_an_account_keeps_its_kind(db: Session) -> None:
    ledger.post(db, kind="charge", lines=charge_lines(10000, 320, 8000), occurred_at=AT)
    wrong = Account(PAYABLE.code, "asset")
    with pytest.raises(AccountKindConflict, match="liability"):
        ledger.post(
            db,
            kind="adjustment",
            lines=[debit(wrong, Money(5, "usd")), credit(COMMISSION, Money(5, "usd"))],
            occurred_at=AT,
        )
