"""PostgreSQL itself protects the books, even when the service is bypassed with raw SQL."""

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

Check = Callable[[Session], None]


@pytest.fixture
def accounts(db: Session) -> Iterator[dict[str, int]]:
    rows = db.execute(
        text(
            "INSERT INTO ledger_accounts (code, currency, kind) VALUES"
            " ('stripe_balance:platform', 'usd', 'asset'),"
            " ('commission_revenue', 'usd', 'revenue'),"
            " ('commission_revenue', 'eur', 'revenue')"
            " RETURNING code || ':' || currency, id"
        )
    ).all()
    yield dict(rows)  # type: ignore[arg-type]


def new_posting(db: Session) -> int:
    return db.execute(
        text("INSERT INTO ledger_postings (kind, occurred_at) VALUES ('raw', now()) RETURNING id")
    ).scalar_one()


def add_line(db: Session, posting: int, account: int, side: str, amount: int, cur: str) -> None:
    db.execute(
        text(
            "INSERT INTO ledger_lines (posting_id, account_id, side, amount, currency)"
            " VALUES (:p, :a, :s, :amt, :c)"
        ),
        {"p": posting, "a": account, "s": side, "amt": amount, "c": cur},
    )


def balanced_posting(db: Session, accounts: dict[str, int]) -> int:
    posting = new_posting(db)
    add_line(db, posting, accounts["stripe_balance:platform:usd"], "debit", 500, "usd")
    add_line(db, posting, accounts["commission_revenue:usd"], "credit", 500, "usd")
    return posting


def expect_refusal(db: Session, action: Callable[[], None], message: str) -> None:
    savepoint = db.begin_nested()
    with pytest.raises(DBAPIError, match=message):
        action()
    savepoint.rollback()


def test_a_balanced_raw_posting_is_accepted(
    db: Session, accounts: dict[str, int], check_constraints: Check
) -> None:
    balanced_posting(db, accounts)
    check_constraints(db)


def test_an_unbalanced_raw_posting_is_refused_at_commit(
    db: Session, accounts: dict[str, int], check_constraints: Check
) -> None:
    def unbalanced() -> None:
        posting = new_posting(db)
        add_line(db, posting, accounts["stripe_balance:platform:usd"], "debit", 500, "usd")
        add_line(db, posting, accounts["commission_revenue:usd"], "credit", 499, "usd")
        check_constraints(db)

    expect_refusal(db, unbalanced, "unbalanced in usd")


def test_balanced_only_across_currencies_is_refused(
    db: Session, accounts: dict[str, int], check_constraints: Check
) -> None:
    def cross_currency() -> None:
        posting = new_posting(db)
        add_line(db, posting, accounts["stripe_balance:platform:usd"], "debit", 500, "usd")
        add_line(db, posting, accounts["commission_revenue:eur"], "credit", 500, "eur")
        check_constraints(db)

    expect_refusal(db, cross_currency, "unbalanced")


def test_a_posting_without_lines_is_refused(db: Session, check_constraints: Check) -> None:
    def empty() -> None:
        new_posting(db)
        check_constraints(db)

    expect_refusal(db, empty, "at least two")


def test_a_line_added_later_to_a_committed_posting_is_refused(
    db: Session, accounts: dict[str, int], check_constraints: Check
) -> None:
    posting = balanced_posting(db, accounts)
    check_constraints(db)

    def extra_line() -> None:
        add_line(db, posting, accounts["commission_revenue:usd"], "credit", 1, "usd")
        check_constraints(db)

    expect_refusal(db, extra_line, "unbalanced")


@pytest.mark.parametrize("amount", [0, -500])
def test_zero_and_negative_line_amounts_are_refused(
    db: Session, accounts: dict[str, int], amount: int
) -> None:
    posting = new_posting(db)
    savepoint = db.begin_nested()
    with pytest.raises(IntegrityError, match="amount_positive"):
        add_line(db, posting, accounts["commission_revenue:usd"], "credit", amount, "usd")
    savepoint.rollback()


def test_a_line_in_another_currency_than_its_account_is_refused(
    db: Session, accounts: dict[str, int]
) -> None:
    posting = new_posting(db)
    savepoint = db.begin_nested()
    with pytest.raises(IntegrityError, match="fk_ledger_lines_account_currency"):
        add_line(db, posting, accounts["commission_revenue:usd"], "credit", 5, "eur")
    savepoint.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_lines SET amount = amount + 1",
        "UPDATE ledger_lines SET side = 'credit' WHERE side = 'debit'",
        "DELETE FROM ledger_lines",
        "TRUNCATE ledger_lines CASCADE",
        "UPDATE ledger_postings SET occurred_at = now() - interval '1 day'",
        "DELETE FROM ledger_postings",
    ],
)
def test_ledger_rows_cannot_be_changed_or_deleted(
    db: Session, accounts: dict[str, int], check_constraints: Check, statement: str
) -> None:
    balanced_posting(db, accounts)
    check_constraints(db)
    expect_refusal(db, lambda: db.execute(text(statement)) and None, "append-only")
    amounts = db.execute(text("SELECT side, amount FROM ledger_lines ORDER BY id")).all()
    assert [tuple(row) for row in amounts] == [("debit", 500), ("credit", 500)]
