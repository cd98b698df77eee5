"""The ledger side of a run: postings that mirror Stripe activity, as the LEDGER frame.

How a posting is read (see payments/bookings.py, which writes them):
- it mirrors one balance transaction: `stripe_balance_transaction`, `stripe_source`,
  `stripe_payment_intent`, `stripe_account` (NULL = the platform), `occurred_at` = Stripe's
  `created`, and `kind` = the Stripe `type` it mirrors (charge, refund, transfer, payment,
  payout, payout_failure; "adjustment" for what finance accepted);
- net = signed sum (debit +, credit −) of its lines on `stripe_balance:<account>`; fee =
  signed sum of its lines with memo "fee"; gross amount = net + fee; currency = the currency
  of its balance lines;
- status (payouts only): "failed" when a payout_failure posting with the same source exists
  (in any window), else "paid";
- reversals: a posting that has been reversed and the reversing posting cancel out, so both
  are left out of the frame (a reversed charge then shows as `missing_in_ledger` against
  Stripe's charge, which is what it is). A reversal of a reversal is left out as well.

One SQL statement (aggregating lines per posting) streamed with COPY: a million postings
load in a couple of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from reconciliation import slices
from reconciliation.frames import LEDGER_COLUMNS, validate_ledger_frame
from reconciliation.pgcopy import copy_out, driver_connection
from reconciliation.slices import Slice

PLATFORM = "platform"
# Columns with few distinct values, whose cells can share one str object.
REPEATED = ("type", "currency", "account", "status")

# A payout's status asks whether its source is among the payout failures' (a hashed subplan,
# read once, probed only for payouts): a join would carry every posting through it.
# A posting's lines are aggregated per posting through the posting_id index (LATERAL) rather
# than by joining the day's lines: a slice's postings are spread over the whole day, and a
# hash join would read every line of the day once per slice. (The build of staged slices
# reads whole ranges of postings instead: LineRange.)
_QUERY = """
SELECT p.id,
       {posting_ref},
       p.stripe_balance_transaction,
       p.stripe_source,
       p.stripe_payment_intent,
       p.kind,
       agg.currency,
       agg.amount,
       agg.fee,
       agg.net,
       extract(epoch FROM p.occurred_at)::bigint,
       {account},
       CASE WHEN p.kind = 'payout'
            THEN CASE WHEN p.stripe_source IN (
                          SELECT f.stripe_source
                          FROM ledger_postings f
                          WHERE f.kind = 'payout_failure' AND f.stripe_source IS NOT NULL
                            AND {failure_filter}
                            AND NOT EXISTS (SELECT 1 FROM ledger_postings r
                                            WHERE r.reverses_posting_id = f.id))
                      THEN 'failed' ELSE 'paid' END
       END
FROM ledger_postings p
{lines}
{partition_join}
WHERE p.occurred_at >= to_timestamp({start}) AND p.occurred_at < to_timestamp({end})
  AND {account_filter}
  AND (p.stripe_balance_transaction IS NOT NULL OR p.stripe_source IS NOT NULL
       OR p.stripe_payment_intent IS NOT NULL)
  AND p.reverses_posting_id IS NULL{claims_filter}{slice_filter}{id_filter}
  AND NOT EXISTS (SELECT 1 FROM ledger_postings r
                  WHERE r.reverses_posting_id = p.id AND r.reverses_posting_id IS NOT NULL)
  {partition_filter}
"""

# A posting's lines aggregated ({balance}: an array of the ids of the account's balance
# ledger accounts): its currency (that of its balance lines), gross amount (balance + fee
# lines), fee and net.
_SIGNED = "CASE WHEN l.side = 'debit' THEN l.amount ELSE -l.amount END"
_AGGREGATES = (
    "count(*) AS lines,"
    " coalesce(max(l.currency) FILTER (WHERE l.account_id = ANY({balance})), min(l.currency))"
    " AS currency,"
    f" coalesce(sum({_SIGNED}) FILTER (WHERE l.account_id = ANY({{balance}}) OR l.memo = 'fee'),"
    " 0) AS amount,"
    f" coalesce(sum({_SIGNED}) FILTER (WHERE l.memo = 'fee'), 0) AS fee,"
    f" coalesce(sum({_SIGNED}) FILTER (WHERE l.account_id = ANY({{balance}})), 0) AS net"
)
# Per posting, through the posting_id index (see above).
_LINES_BY_POSTING = (
    "CROSS JOIN (SELECT coalesce(array_agg(id), '{{}}') AS ids FROM ledger_accounts"
    " WHERE code = {code}) AS b"
    f" JOIN LATERAL (SELECT {_AGGREGATES} FROM ledger_lines l WHERE l.posting_id = p.id)"
    " AS agg ON agg.lines > 0"
)
# Over a range of posting ids at once (LineRange): the range's lines read in posting order
# and aggregated as they come, merged with the postings read by primary key, instead of an
# index descent and an aggregate begun per posting. A posting without lines has no group,
# so it is left out as the per-posting form leaves it out.
_LINES_BY_RANGE = (
    f"JOIN (SELECT l.posting_id, {_AGGREGATES} FROM ledger_lines l"
    " WHERE l.posting_id BETWEEN {first} AND {last} GROUP BY l.posting_id)"
    " AS agg ON agg.posting_id = p.id"
)
_CLAIMS_NOTHING = "\n  AND p.stripe_balance_transaction IS NULL AND p.stripe_source IS NULL"

# The aggregate over a million postings: no JIT (its compile time exceeds the query's) and
# enough memory to hash in one pass, for this transaction only.
SESSION_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


def ledger_query(
    account: str,
    start: int,
    end: int,
    *,
    currency: str | None = None,
    part: Slice | None = None,
    claims_nothing: bool = False,
    lines: LineRange | None = None,
) -> sql.Composed:
    """The SELECT behind the LEDGER frame of `account` for occurred_at in [start, end).

    With `currency`, only the postings of that partition: those whose Stripe row (by balance
    transaction, from the local cache) is in that currency, or, with no such row, whose own
    currency it is — so a posting booked in the wrong currency stays with its Stripe row and
    is still reported as a currency_mismatch. With `part`, only that hash slice (slices.py).
    With `claims_nothing`, only postings that claim no balance transaction or source id.
    With `lines`, only the postings of that range of ids, their lines aggregated by range.
    A staged slice is read from its staging table (reconciliation/staging.py).
    """
    if part is not None and part.staged is not None:
        return slices.staged_select(part, "ledger", [c.name for c in LEDGER_COLUMNS], account)
    failure_filter: sql.Composable
    partition_join: sql.Composable = sql.SQL("")
    conditions: list[sql.Composable] = []
    if account == PLATFORM:
        failure_filter = sql.SQL("f.stripe_account IS NULL")
    else:
        failure_filter = sql.SQL("f.stripe_account = {}").format(sql.Literal(account))
    if currency is not None:
        partition_join = sql.SQL(
            "LEFT JOIN stripe_balance_transactions sbt"
            " ON sbt.id = p.stripe_balance_transaction AND sbt.account = {}"
        ).format(sql.Literal(account))
    if currency is not None:
        conditions.append(
            sql.SQL("coalesce(sbt.currency, agg.currency) = {}").format(sql.Literal(currency))
        )
    partition_filter: sql.Composable = (
        sql.SQL("AND ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    )
    return sql.SQL(_QUERY).format(
        posting_ref=sql.SQL(slices.POSTING_REF.format("p.id")),
        lines=_lines(account, lines),
        start=sql.Literal(int(start)),
        end=sql.Literal(int(end)),
        account_filter=slices.account_filter("p", account),
        failure_filter=failure_filter,
        account=sql.Literal(account),
        claims_filter=sql.SQL(_CLAIMS_NOTHING if claims_nothing else ""),
        slice_filter=(
            sql.SQL("\n  AND ") + slices.posting_filter(part, start, end) if part else sql.SQL("")
        ),
        id_filter=(
            sql.SQL("\n  AND p.id BETWEEN {} AND {}").format(
                sql.Literal(lines.first), sql.Literal(lines.last)
            )
            if lines
            else sql.SQL("")
        ),
        partition_join=partition_join,
        partition_filter=partition_filter,
    )


@dataclass(frozen=True)
class LineRange:
    """Postings `first` … `last` (ids, both included), their lines aggregated over the range
    at once; `balance`: the ids of the account's balance ledger accounts (balance_accounts).
    Worth it for a range that the window's postings fill (posting_ids tells)."""

    first: int
    last: int
    balance: tuple[int, ...]


def _lines(account: str, lines: LineRange | None) -> sql.Composed:
    if lines is None:
        return sql.SQL(_LINES_BY_POSTING).format(
            code=sql.Literal(f"stripe_balance:{account}"), balance=sql.SQL("b.ids")
        )
    return sql.SQL(_LINES_BY_RANGE).format(
        first=sql.Literal(lines.first),
        last=sql.Literal(lines.last),
        balance=slices.bigint_array(lines.balance),
    )


def balance_accounts(session: Session, account: str) -> tuple[int, ...]:
    """The ids of `account`'s balance ledger accounts (one per currency)."""
    return tuple(
        int(i)
        for i in session.scalars(
            text("SELECT id FROM ledger_accounts WHERE code = :code ORDER BY id"),
            {"code": f"stripe_balance:{account}"},
        )
    )


def posting_ids(session: Session, account: str, start: int, end: int) -> tuple[int, int, int]:
    """(lowest id, highest id, how many) of `account`'s postings with occurred_at in
    [start, end) ((0, -1, 0) for none): how densely they fill their range of ids."""
    query = sql.SQL(
        "SELECT coalesce(min(p.id), 0), coalesce(max(p.id), -1), count(*) FROM ledger_postings p"
        " WHERE p.occurred_at >= to_timestamp({start}) AND p.occurred_at < to_timestamp({end})"
        " AND {account_filter}"
    ).format(
        start=sql.Literal(int(start)),
        end=sql.Literal(int(end)),
        account_filter=slices.account_filter("p", account),
    )
    row = driver_connection(session).execute(query).fetchone()
    assert row is not None  # an aggregate always answers one row
    return int(row[0]), int(row[1]), int(row[2])


def booked_by_hand(
    session: Session, account: str, start: int, end: int, count: int
) -> list[tuple[int, str, int]]:
    """(posting id, "currency:amount", slice of that key) of the postings in [start, end)
    that claim no Stripe id (read through the partial index of migration 0010)."""
    key = sql.SQL("q.currency || ':' || q.amount::text")
    query = sql.SQL("SELECT q.posting_id, {key}, {slice} FROM ({inner}) AS q({columns})").format(
        key=key,
        slice=slices.slice_number(key, count),
        inner=ledger_query(account, start, end, claims_nothing=True),
        columns=sql.SQL(", ").join(sql.Identifier(c.name) for c in LEDGER_COLUMNS),
    )
    for setting in SESSION_SETTINGS:
        session.execute(text(setting))
    rows = driver_connection(session).execute(query).fetchall()
    return [(int(i), str(k), int(n)) for i, k, n in rows]


def plan_slices(session: Session, account: str, start: int, end: int, count: int) -> Slice:
    """Slice 0 of `count` of `account`'s day [start, end), with what every slice needs to know
    (see slices.py): the "currency:amount" keys of the postings that claim no Stripe id, the
    postings whose slice is not that of the ids they claim, and the unclaimed Stripe rows
    that go with the postings booked by hand. Made once per run; normally all three hold a
    handful of rows, but finding the postings with a wrong source joins the day's postings
    to its Stripe rows. (A job stages its slices instead: reconciliation/staging.py.)"""
    unclaimed = booked_by_hand(session, account, start, end, count)
    connection = driver_connection(session)
    moved = connection.execute(slices.rekeyed_postings(account, start, end, count)).fetchall()
    probe_keys = tuple(sorted({k for _, k, _ in unclaimed}))
    stripe_moved = (
        connection.execute(
            slices.probed_stripe_rows(account, start, end, probe_keys, count)
        ).fetchall()
        if probe_keys
        else []
    )
    return Slice(
        0,
        count,
        probe_keys=probe_keys,
        moved=tuple((i, n) for i, _, n in unclaimed) + tuple((int(i), int(n)) for i, n in moved),
        stripe_moved=tuple((str(i), int(n)) for i, n in stripe_moved),
    )


def load_ledger_frame(
    session: Session,
    account: str,
    start: int,
    end: int,
    *,
    currency: str | None = None,
    part: Slice | None = None,
) -> pd.DataFrame:
    """The validated LEDGER frame of `account` for postings with occurred_at in [start, end)."""
    for setting in SESSION_SETTINGS:
        session.execute(text(setting))
    frame = copy_out(
        session,
        ledger_query(account, start, end, currency=currency, part=part),
        LEDGER_COLUMNS,
        repeated=REPEATED,
    )
    if part is not None and part.staged is not None:
        slices.check_staged(part, "ledger", len(frame))
    return validate_ledger_frame(frame)


def count_postings(session: Session, account: str, start: int, end: int) -> int:
    """How many postings with Stripe references `account` has with occurred_at in [start, end)."""
    account_filter = (
        "stripe_account IS NULL" if account == PLATFORM else "stripe_account = :account"
    )
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM ledger_postings WHERE occurred_at >= to_timestamp(:s)"
                f" AND occurred_at < to_timestamp(:e) AND {account_filter}"
                " AND (stripe_balance_transaction IS NOT NULL OR stripe_source IS NOT NULL"
                " OR stripe_payment_intent IS NOT NULL)"
            ),
            {"s": start, "e": end, "account": account},
        ).scalar_one()
    )
