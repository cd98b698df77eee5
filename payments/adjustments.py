"""Book Stripe activity that finance accepted after the fact (an adjusting posting).

A refund made in the Stripe Dashboard, a dispute, a fee adjustment: our flows did not book
it, reconciliation reported it, and finance accepts it with a note. The posting mirrors the
Stripe balance transaction exactly as the local copy (`stripe_balance_transactions`) holds
it, so the next reconciliation matches it by balance transaction id:
- net on `stripe_balance:<account>` (debit when money came in, credit when it went out);
- the fee on its own line with memo "fee" (Stripe's fee account of that balance);
- the gross against `finance_adjustments`;
- kind = Stripe's type (refund, adjustment, …), Stripe's ids, occurred_at = Stripe's created,
  dedupe_key `adjustment:<txn>`: accepting twice books once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from models import Posting, StripeBalanceTransaction
from models.money import Money
from payments import chart, ledger
from payments.errors import InvalidOperation
from payments.ledger import Line, StripeRefs, credit, debit


class AdjustmentRefused(InvalidOperation):
    """The activity cannot be booked as asked (unknown, already booked, inconsistent)."""


def _signed(account: ledger.Account, amount: int, currency: str, memo: str | None) -> list[Line]:
    if amount > 0:
        return [debit(account, Money(amount, currency), memo)]
    if amount < 0:
        return [credit(account, Money(-amount, currency), memo)]
    return []


def adjustment_lines(txn: StripeBalanceTransaction) -> list[Line]:
    """Balanced lines mirroring one balance transaction (gross = net + fee, as Stripe has it)."""
    if txn.net != txn.amount - txn.fee:
        raise AdjustmentRefused(
            f"{txn.id}: net {txn.net} is not amount {txn.amount} less fee {txn.fee}"
        )
    fee_account = (
        chart.STRIPE_FEES if txn.account == chart.PLATFORM else chart.connected_fees(txn.account)
    )
    lines = [
        *_signed(chart.stripe_balance(txn.account), txn.net, txn.currency, chart.NET_MEMO),
        *_signed(fee_account, txn.fee, txn.currency, chart.FEE_MEMO),
        *_signed(chart.ADJUSTMENTS, -txn.amount, txn.currency, None),
    ]
    if len(lines) < 2:
        raise AdjustmentRefused(f"{txn.id} moves no money: there is nothing to book")
    return lines


def book_accepted(
    session: Session, balance_transaction: str, account: str, note: str, actor: str
) -> Posting:
    """The adjusting posting for one Stripe balance transaction of `account`."""
    txn = session.get(StripeBalanceTransaction, balance_transaction)
    if txn is None:
        raise AdjustmentRefused(
            f"{balance_transaction} is not in the local copy of Stripe's balance transactions;"
            " re-run the day to fetch it"
        )
    if txn.account != account:
        raise AdjustmentRefused(f"{balance_transaction} belongs to {txn.account}, not to {account}")
    reversal = aliased(Posting)
    booked = session.scalar(
        select(Posting.id).where(
            Posting.stripe_balance_transaction == txn.id,
            Posting.reverses_posting_id.is_(None),
            Posting.dedupe_key != f"adjustment:{txn.id}",
            ~select(reversal.id).where(reversal.reverses_posting_id == Posting.id).exists(),
        )
    )
    if booked is not None:
        raise AdjustmentRefused(
            f"the ledger already mirrors {txn.id} (posting {booked}): it is not missing"
        )
    return ledger.post(
        session,
        kind=txn.type,
        lines=adjustment_lines(txn),
        occurred_at=txn.created,
        description=f"accepted by {actor}: {note}",
        dedupe_key=f"adjustment:{txn.id}",
        stripe=StripeRefs(
            balance_transaction=txn.id,
            source=txn.source,
            account=None if account == chart.PLATFORM else account,
        ),
    )


def booker(session: Session, balance_transaction: str, account: str, note: str, actor: str) -> int:
    """`book_accepted` as reconciliation.casework.Booker wants it: the posting's id."""
    return book_accepted(session, balance_transaction, account, note, actor).id
