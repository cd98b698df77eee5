"""A committed posting is sealed: PostgreSQL refuses lines added to it later, even balanced
ones written with raw SQL (a correction is a new posting)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.db import transaction

from .test_ledger_database_guards import add_line, new_posting


@pytest.fixture
def committed_posting(sessions: sessionmaker[Session]) -> tuple[int, dict[str, int]]:
    with transaction(sessions) as session:
        accounts = dict(
            session.execute(
                text(
                    "INSERT INTO ledger_accounts (code, currency, kind) VALUES"
                    " ('stripe_balance:platform', 'usd', 'asset'),"
                    " ('commission_revenue', 'usd', 'revenue')"
                    " RETURNING code, id"
                )
            ).all()  # type: ignore[arg-type]
        )
        posting = new_posting(session)
        add_line(session, posting, accounts["stripe_balance:platform"], "debit", 500, "usd")
        add_line(session, posting, accounts["commission_revenue"], "credit", 500, "usd")
    return posting, accounts


def test_balanced_lines_cannot_be_appended_to_a_committed_posting(
    sessions: sessionmaker[Session], committed_posting: tuple[int, dict[str, int]]
) -> None:
    posting, accounts = committed_posting
    with pytest.raises(DBAPIError, match="committed earlier"):
        with transaction(sessions) as session:
            add_line(session, posting, accounts["stripe_balance:platform"], "debit", 900, "usd")
            add_line(session, posting, accounts["commission_revenue"], "credit", 900, "usd")
    with transaction(sessions) as session:
        lines = session.execute(
            text("SELECT count(*) FROM ledger_lines WHERE posting_id = :p"), {"p": posting}
        ).scalar_one()
    assert lines == 2


def test_lines_of_a_posting_written_in_a_savepoint_of_the_same_transaction_are_accepted(
    sessions: sessionmaker[Session], committed_posting: tuple[int, dict[str, int]]
) -> None:
    _, accounts = committed_posting
    with transaction(sessions) as session:
        with session.begin_nested():
            posting = new_posting(session)
        with session.begin_nested():
            add_line(session, posting, accounts["stripe_balance:platform"], "debit", 7, "usd")
        add_line(session, posting, accounts["commission_revenue"], "credit", 7, "usd")
    with transaction(sessions) as session:
        total = session.execute(
            text("SELECT sum(amount) FROM ledger_lines WHERE posting_id = :p"), {"p": posting}
        ).scalar_one()
    assert total == 14
