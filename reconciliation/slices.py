"""Hash slices: one (day, account, currency) split into `count` partitions that each load
only their share of both sides from PostgreSQL, so a worker's memory is per slice.

The key must put every Stripe row and every posting that the matcher could pair into the
same slice (see matcher.py for the three passes):
- a Stripe row's key is its source id (`ch_`, `re_`, `po_`, …), or its own id when it has
  none; a posting's key is the key of the Stripe row it claims by balance transaction id
  (read from the local copy), else the source id it claims, else the id it claims. So pass 1
  (by id), pass 2 (by source, a split or a duplicate booking of one charge included) and
  the `timing` of a pair across midnight all happen inside one slice.
- a posting that claims no Stripe id at all can only be paired by the probable pass (same
  currency and amount, close in time). Its key is "currency:amount"; a Stripe row that no
  posting claims and whose "currency:amount" is among those keys (`probe_keys`, read once
  per slice from the ledger; normally a handful) takes that key too. So a probable match is
  found exactly as in one piece, and two real errors with equal amounts still meet and are
  still told apart by the matcher's rules.
Every row lands in exactly one slice, so counts, totals and findings add up across slices
(runs.add_result merges them as it merges currency partitions). The hash is PostgreSQL's
`hashtext`, computed by the one server that holds both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from reconciliation.rules import TYPE_FAMILY

PLATFORM = "platform"


@dataclass(frozen=True)
class Slice:
    """Partition `index` of `count` (0 <= index < count)."""

    index: int
    count: int
    probe_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"slice {self.index} of {self.count} does not exist")


def slice_count(rows: int, rows_per_slice: int) -> int:
    """How many slices keep each at about `rows_per_slice` rows (at least one)."""
    return max(1, -(-rows // max(1, rows_per_slice)))


def bucket(key: sql.Composable, part: Slice) -> sql.Composed:
    """`key`'s slice number equals `part.index`."""
    return sql.SQL("mod(hashtext({key})::bigint + 2147483648, {count}) = {index}").format(
        key=key, count=sql.Literal(part.count), index=sql.Literal(part.index)
    )


def family(column: str) -> sql.Composed:
    """The type family of a type column, in SQL (rules.TYPE_FAMILY)."""
    cases = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(t), sql.Literal(f))
        for t, f in sorted(TYPE_FAMILY.items())
    )
    return sql.SQL("CASE {column} {cases} ELSE {column} END").format(
        column=sql.SQL(column), cases=cases
    )


def account_filter(alias: str, account: str) -> sql.Composed:
    if account == PLATFORM:
        return sql.SQL("{}.stripe_account IS NULL").format(sql.Identifier(alias))
    return sql.SQL("{}.stripe_account = {}").format(sql.Identifier(alias), sql.Literal(account))


def stripe_filter(part: Slice, account: str, start: int, end: int) -> sql.Composed:
    """WHERE condition on the cache table aliased `s` for the rows of this slice; postings
    in [start, end) of `account` decide which rows are claimed."""
    probe = sql.SQL("s.currency || ':' || s.amount::text")
    if not part.probe_keys:
        return bucket(sql.SQL("coalesce(s.source, s.id)"), part)
    claimed = sql.SQL(
        "EXISTS (SELECT 1 FROM ledger_postings p WHERE {accounts}"
        " AND p.occurred_at >= to_timestamp({start}) AND p.occurred_at < to_timestamp({end})"
        " AND p.reverses_posting_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM ledger_postings r WHERE r.reverses_posting_id = p.id)"
        " AND (p.stripe_balance_transaction = s.id"
        " OR (p.stripe_source = s.source AND {posting_family} = {row_family}"
        " AND NOT EXISTS (SELECT 1 FROM stripe_balance_transactions c"
        " WHERE c.id = p.stripe_balance_transaction AND c.account = s.account))))"
    ).format(
        accounts=account_filter("p", account),
        start=sql.Literal(int(start)),
        end=sql.Literal(int(end)),
        posting_family=family("p.kind"),
        row_family=family("s.type"),
    )
    key = sql.SQL(
        "CASE WHEN {probe} = ANY({keys}) AND NOT {claimed} THEN {probe}"
        " ELSE coalesce(s.source, s.id) END"
    ).format(probe=probe, keys=sql.Literal(list(part.probe_keys)), claimed=claimed)
    return bucket(key, part)


def posting_key(currency: sql.Composable, amount: sql.Composable) -> sql.Composed:
    """A posting's key inside the ledger query's GROUP BY p.id (`sbt`: its claimed row)."""
    return sql.SQL(
        "CASE WHEN p.stripe_balance_transaction IS NULL AND p.stripe_source IS NULL"
        " THEN ({currency}) || ':' || ({amount})::text"
        " ELSE coalesce(min(sbt.source), min(sbt.id), p.stripe_source,"
        " p.stripe_balance_transaction) END"
    ).format(currency=currency, amount=amount)
