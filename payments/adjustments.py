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


def mirror_lines(
    stripe_account: str,
    *,
    amount: int,
    fee: int,
    net: int,
    currency: str,
    against: ledger.Account,
    fee_account: ledger.Account | None = None,
) -> list[Line]:
    """Balanced lines mirroring one balance transaction: net on the Stripe balance, the fee on
    its own line (memo "fee"), the gross against `against`. Refused unless net = gross − fee."""
    if net != amount - fee:
        raise AdjustmentRefused(f"net {net} is not amount {amount} less fee {fee}")
    if fee_account is None:
        fee_account = (
            chart.STRIPE_FEES
            if stripe_account == chart.PLATFORM
            else chart.connected_fees(stripe_account)
        )
    lines = [
        *_signed(chart.stripe_balance(stripe_account), net, currency, chart.NET_MEMO),
        *_signed(fee_account, fee, currency, chart.FEE_MEMO),
        *_signed(against, -amount, currency, None),
    ]
    if len(lines) < 2:
        raise AdjustmentRefused("the balance transaction moves no money: there is nothing to book")
    return lines


def adjustment_lines(txn: StripeBalanceTransaction) -> list[Line]:
    """Balanced lines mirroring one balance transaction (gross = net + fee, as Stripe has it)."""
    try:
        return mirror_lines(
            txn.account,
            amount=txn.amount,
            fee=txn.fee,
            net=txn.net,
            currency=txn.currency,
            against=chart.ADJUSTMENTS,
        )
    except AdjustmentRefused as refused:
        raise AdjustmentRefused(f"{txn.id}: {refused}") from None


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
