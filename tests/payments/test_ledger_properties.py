"""Property tests: whatever valid postings and reversals happen, the books stay balanced."""

from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from models.money import Money
from payments import ledger
from payments.ledger import Account, credit, debit

ACCOUNTS = [
    Account("stripe_balance:platform", "asset"),
    Account("stripe_fees", "expense"),
    Account("carrier_payable:1", "liability"),
    Account("carrier_payable:2", "liability"),
    Account("commission_revenue", "revenue"),
    Account("shipper_receivable:1", "asset"),
]
CURRENCIES = ["usd", "jpy", "kwd"]
AT = datetime(2026, 11, 20, tzinfo=UTC)


@st.composite
def balanced_lines(draw: st.DrawFn) -> list[ledger.Line]:
    """Lines that balance per currency: each currency's debits split across credit lines."""
    lines: list[ledger.Line] = []
    for currency in draw(
        st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True)
    ):
        parts = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=3))
        debit_account, *credit_accounts = draw(st.permutations(ACCOUNTS))
        lines.append(debit(debit_account, Money(sum(parts), currency)))
        lines += [credit(credit_accounts[i], Money(p, currency)) for i, p in enumerate(parts)]
    return lines


operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), balanced_lines()),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=12,
)

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(ops=operations)
def test_every_currency_sums_to_zero_after_any_postings_and_reversals(
    db: Session, check_constraints: Callable[[Session], None], ops: list[tuple[str, object]]
) -> None:
    savepoint = db.begin_nested()
    try:
        posted: list[int] = []
        for op, arg in ops:
            if op == "post":
                posted.append(ledger.post(db, kind="test", lines=arg, occurred_at=AT).id)
            elif posted:
                ledger.reverse(db, posted[arg % len(posted)], occurred_at=AT)  # type: ignore[operator]
            assert all(total == 0 for total in ledger.trial_balance(db).values())
        check_constraints(db)  # and PostgreSQL agrees, as at COMMIT
    finally:
        savepoint.rollback()


@PROPERTY_SETTINGS
@given(st.lists(balanced_lines(), min_size=1, max_size=5))
def test_reversing_a_posting_restores_every_balance(
    db: Session, postings: list[list[ledger.Line]]
) -> None:
    savepoint = db.begin_nested()
    try:
        for lines in postings[:-1]:
            ledger.post(db, kind="test", lines=lines, occurred_at=AT)
        before = ledger.balances(db)
        last = ledger.post(db, kind="test", lines=postings[-1], occurred_at=AT)
        ledger.reverse(db, last.id, occurred_at=AT)
        after = ledger.balances(db)
        touched = set(after) - set(before)
        assert all(after[key] == 0 for key in touched)
        assert {key: after[key] for key in before} == before
    finally:
        savepoint.rollback()
