"""Post balanced journal entries, read balances, reverse postings.

The rules (checked here, and again by PostgreSQL at commit, see migration 0002):
- a posting has two or more lines; each line is a positive amount debited or credited to
  one account, in that account's currency;
- per currency, a posting's debits equal its credits;
- nothing is ever updated or deleted: a correction is a reversing posting.

Balances are signed debit-minus-credit: positive for an asset that holds money, negative for
a liability we owe.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import case, func, select, text, tuple_
from sqlalchemy.orm import Session

from models import LedgerAccount, LedgerLine, Posting
from models.ledger import ACCOUNT_KINDS
from models.money import Money
from payments.errors import (
    AccountKindConflict,
    InvalidLedgerLine,
    PostingNotFound,
    UnbalancedPosting,
)

Side = Literal["debit", "credit"]
AccountKind = Literal["asset", "liability", "revenue", "expense", "equity"]


@dataclass(frozen=True, slots=True)
class Account:
    """An account of the chart: a code such as `carrier_payable:17` and its kind."""

    code: str
    kind: AccountKind


@dataclass(frozen=True, slots=True)
class Line:
    account: Account
    side: Side
    money: Money
    memo: str | None = None


def debit(account: Account, money: Money, memo: str | None = None) -> Line:
    return Line(account, "debit", money, memo)


def credit(account: Account, money: Money, memo: str | None = None) -> Line:
    return Line(account, "credit", money, memo)


@dataclass(frozen=True, slots=True)
class StripeRefs:
    """The Stripe objects a posting mirrors (see DESIGN.md, Ledger)."""

    balance_transaction: str | None = None
    source: str | None = None
    payment_intent: str | None = None
    account: str | None = None


def check_balanced(lines: Sequence[Line]) -> None:
    """Raise unless the lines form a valid posting: >= 2 positive lines, balanced per currency."""
    if len(lines) < 2:
        raise UnbalancedPosting(f"a posting needs at least two lines, got {len(lines)}")
    net: dict[str, int] = defaultdict(int)
    for index, line in enumerate(lines):
        if line.side not in ("debit", "credit"):
            raise InvalidLedgerLine(
                f"line {index}: side must be debit or credit, not {line.side!r}"
            )
        if line.account.kind not in ACCOUNT_KINDS:
            raise InvalidLedgerLine(f"line {index}: unknown account kind {line.account.kind!r}")
        if line.money.amount <= 0:
            raise InvalidLedgerLine(
                f"line {index}: amount must be positive, got {line.money.amount}"
                " (express direction with debit/credit)"
            )
        signed = line.money.amount if line.side == "debit" else -line.money.amount
        net[line.money.currency] += signed
    unbalanced = {currency: total for currency, total in net.items() if total != 0}
    if unbalanced:
        detail = ", ".join(f"{c}: debits exceed credits by {t}" for c, t in unbalanced.items())
        raise UnbalancedPosting(f"posting does not balance ({detail})")


# One round trip for every account a posting touches: create the missing ones, read them all.
# The SELECT half runs on the statement's snapshot, so an account a concurrent transaction
# created a moment ago can be missing from its answer; _account_ids reads those again.
_UPSERT_ACCOUNTS = text(
    """
    WITH wanted AS (
        SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:currencies AS text[]),
                             CAST(:kinds AS text[])) AS w(code, currency, kind)
    ), created AS (
        INSERT INTO ledger_accounts (code, currency, kind)
        SELECT code, currency, kind FROM wanted
        ON CONFLICT (code, currency) DO NOTHING
        RETURNING id, code, currency, kind
    )
    SELECT id, code, currency, kind FROM created
    UNION ALL
    SELECT a.id, a.code, a.currency, a.kind
    FROM ledger_accounts a JOIN wanted w ON a.code = w.code AND a.currency = w.currency
    """
)

# The posting and its lines in one statement; nothing is written if the dedupe key exists.
_INSERT_POSTING = text(
    """
    WITH new_posting AS (
        INSERT INTO ledger_postings (kind, description, dedupe_key, occurred_at, stripe_account,
            stripe_balance_transaction, stripe_source, stripe_payment_intent, reverses_posting_id)
        VALUES (:kind, :description, :dedupe_key, :occurred_at, :stripe_account,
            :stripe_balance_transaction, :stripe_source, :stripe_payment_intent,
            :reverses_posting_id)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
    ), new_lines AS (
        INSERT INTO ledger_lines (posting_id, account_id, side, amount, currency, memo)
        SELECT new_posting.id, l.account_id, l.side, l.amount, l.currency, l.memo
        FROM new_posting, unnest(CAST(:account_ids AS bigint[]), CAST(:sides AS text[]),
            CAST(:amounts AS bigint[]), CAST(:currencies AS text[]), CAST(:memos AS text[]))
            WITH ORDINALITY AS l(account_id, side, amount, currency, memo, position)
        ORDER BY l.position
    )
    SELECT id FROM new_posting
    """
)


def _account_ids(session: Session, lines: Iterable[Line]) -> dict[tuple[str, str], int]:
    wanted = {(line.account.code, line.money.currency): line.account.kind for line in lines}
    keys = list(wanted)
    rows = list(
        session.execute(
            _UPSERT_ACCOUNTS,
            {
                "codes": [code for code, _ in keys],
                "currencies": [currency for _, currency in keys],
                "kinds": [wanted[key] for key in keys],
            },
        )
    )
    missing = set(keys) - {(code, currency) for _, code, currency, _ in rows}
    if missing:
        rows += session.execute(
            select(
                LedgerAccount.id, LedgerAccount.code, LedgerAccount.currency, LedgerAccount.kind
            ).where(tuple_(LedgerAccount.code, LedgerAccount.currency).in_(list(missing)))
        ).all()
    ids: dict[tuple[str, str], int] = {}
    for account_id, code, currency, existing_kind in rows:
        if existing_kind != wanted[(code, currency)]:
            raise AccountKindConflict(
                f"account {code} ({currency}) is a {existing_kind} account,"
                f" not {wanted[(code, currency)]}"
            )
        ids[(code, currency)] = account_id
    return ids


def post(
    session: Session,
    *,
    kind: str,
    lines: Sequence[Line],
    occurred_at: datetime,
    description: str | None = None,
    dedupe_key: str | None = None,
    stripe: StripeRefs | None = None,
    reverses_posting_id: int | None = None,
) -> Posting:
    """Write one balanced posting and return it.

    With a dedupe_key, posting is idempotent: if a posting with that key exists (written by
    this call's twin — the job or the webhook, whichever came first), it is returned and
    nothing new is written. Concurrent twins serialise on the unique index.
    """
    check_balanced(lines)
    if occurred_at.tzinfo is None:
        raise InvalidLedgerLine("occurred_at must be timezone-aware")
    refs = stripe or StripeRefs()
    account_ids = _account_ids(session, lines)
    posting_id = session.execute(
        _INSERT_POSTING,
        {
            "kind": kind,
            "description": description,
            "dedupe_key": dedupe_key,
            "occurred_at": occurred_at,
            "stripe_account": refs.account,
            "stripe_balance_transaction": refs.balance_transaction,
            "stripe_source": refs.source,
            "stripe_payment_intent": refs.payment_intent,
            "reverses_posting_id": reverses_posting_id,
            "account_ids": [account_ids[(ln.account.code, ln.money.currency)] for ln in lines],
            "sides": [line.side for line in lines],
            "amounts": [line.money.amount for line in lines],
            "currencies": [line.money.currency for line in lines],
            "memos": [line.memo for line in lines],
        },
    ).scalar_one_or_none()
    if posting_id is None:
        return session.scalars(select(Posting).where(Posting.dedupe_key == dedupe_key)).one()
    posting = session.get(Posting, posting_id)
    assert posting is not None
    return posting


def lines_of(posting: Posting) -> list[Line]:
    """A stored posting's lines, as the Line values post() takes."""
    return [
        Line(
            Account(line.account.code, line.account.kind),  # type: ignore[arg-type]
            line.side,  # type: ignore[arg-type]
            Money(line.amount, line.currency),
            line.memo,
        )
        for line in posting.lines
    ]


def reverse(
    session: Session,
    posting_id: int,
    *,
    occurred_at: datetime | None = None,
    description: str | None = None,
) -> Posting:
    """Post the mirror image of a posting; reversing twice returns the first reversal."""
    original = session.get(Posting, posting_id)
    if original is None:
        raise PostingNotFound(f"no ledger posting {posting_id}")
    lines = [
        Line(line.account, "credit" if line.side == "debit" else "debit", line.money, line.memo)
        for line in lines_of(original)
    ]
    return post(
        session,
        kind="reversal",
        lines=lines,
        occurred_at=occurred_at or datetime.now(UTC),
        description=description or f"reversal of posting {posting_id}",
        dedupe_key=f"reversal:{posting_id}",
        stripe=StripeRefs(
            balance_transaction=original.stripe_balance_transaction,
            source=original.stripe_source,
            payment_intent=original.stripe_payment_intent,
            account=original.stripe_account,
        ),
        reverses_posting_id=posting_id,
    )


_SIGNED = case((LedgerLine.side == "debit", LedgerLine.amount), else_=-LedgerLine.amount)


def balance(session: Session, code: str, currency: str) -> Money:
    """An account's balance, debit-minus-credit, in minor units."""
    total = session.execute(
        select(func.coalesce(func.sum(_SIGNED), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.code == code, LedgerAccount.currency == currency)
    ).scalar_one()
    return Money(int(total), currency)


def balances(session: Session, code_prefix: str = "") -> dict[tuple[str, str], int]:
    """Every account's balance, keyed by (code, currency); optionally only codes with a prefix."""
    query = (
        select(LedgerAccount.code, LedgerAccount.currency, func.sum(_SIGNED))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .group_by(LedgerAccount.code, LedgerAccount.currency)
    )
    if code_prefix:
        query = query.where(LedgerAccount.code.startswith(code_prefix, autoescape=True))
    return {(code, currency): int(total) for code, currency, total in session.execute(query)}


def trial_balance(session: Session) -> dict[str, int]:
    """Sum of every line per currency; zero in every currency when the books are sound."""
    rows = session.execute(
        select(LedgerLine.currency, func.sum(_SIGNED)).group_by(LedgerLine.currency)
    )
    return {currency: int(total) for currency, total in rows}
