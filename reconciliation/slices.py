"""Hash slices: one account's day split into `count` partitions that each load only their
share of both sides from PostgreSQL (a hash in the WHERE, before the per-posting aggregation),
so a worker's memory is per slice.

The key must put every Stripe row and every posting that the matcher could pair into the
same slice (see matcher.py for the three passes):
- a Stripe row's key is its source id (`ch_`, `re_`, `po_`, …), or its own id when it has
  none; a posting's key is the source id it claims, else the balance transaction id. A
  posting whose claimed balance transaction (in the local copy) has another key — a wrong or
  missing source on the posting — is moved to that row's slice (`moved`, planned once per
  run). So pass 1 (by id), pass 2 (by source, a split or a duplicate booking of one charge
  included) and the `timing` of a pair across midnight all happen inside one slice.
- a posting that claims no Stripe id at all can only be paired by the probable pass (same
  currency and amount, close in time). Its key is "currency:amount" (it is `moved` there);
  a Stripe row that no posting claims and whose "currency:amount" is among those keys
  (`probe_keys`, planned once per run; normally a handful) takes that key too. So a
  probable match is found exactly as in one piece, and two real errors with equal amounts
  still meet and are still told apart by the matcher's rules.
Every row lands in exactly one slice, so counts, totals and findings add up across slices
(runs.add_result merges them as it merges currency partitions). The hash is PostgreSQL's
`hashtext`, computed by the one server that holds both sides. Whether a Stripe row is
claimed is only asked of the few rows whose "currency:amount" is a probe key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from psycopg import sql

from reconciliation.rules import TYPE_FAMILY

PLATFORM = "platform"


@dataclass(frozen=True)
class Slice:
    """Partition `index` of `count` (0 <= index < count). `probe_keys`: the "currency:amount"
    of the postings that claim no Stripe id; `moved`: (posting id, slice) of the postings
    whose slice is not the hash of the id they claim themselves (those without one, and
    those whose claimed balance transaction has another source). Both come from
    `ledger_source.plan_slices`, once per run."""

    index: int
    count: int
    probe_keys: tuple[str, ...] = ()
    moved: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"slice {self.index} of {self.count} does not exist")

    def at(self, index: int) -> Slice:
        return replace(self, index=index)

    def to_message(self) -> dict[str, Any]:
        """JSON-safe arguments for a partition job."""
        return {
            "index": self.index,
            "count": self.count,
            "probe_keys": list(self.probe_keys),
            "moved": [list(m) for m in self.moved],
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Slice:
        return cls(
            int(data["index"]),
            int(data["count"]),
            tuple(str(k) for k in data["probe_keys"]),
            tuple((int(p), int(i)) for p, i in data["moved"]),
        )


def slice_count(rows: int, rows_per_slice: int) -> int:
    """How many slices keep each at about `rows_per_slice` rows (at least one)."""
    return max(1, -(-rows // max(1, rows_per_slice)))


def slice_number(key: sql.Composable, count: int) -> sql.Composed:
    """The slice of `key` (SQL text), 0 … count-1."""
    return sql.SQL("mod(hashtext({key})::bigint + 2147483648, {count})").format(
        key=key, count=sql.Literal(count)
    )


def bucket(key: sql.Composable, part: Slice) -> sql.Composed:
    """`key`'s slice number equals `part.index`."""
    return sql.SQL("{} = {}").format(slice_number(key, part.count), sql.Literal(part.index))


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


def posting_filter(part: Slice) -> sql.Composed:
    """WHERE condition (before aggregation, so a slice reads only its postings' lines) on
    ledger_postings aliased `p`: the hash of the id the posting claims, or its move."""
    moved = [posting for posting, _ in part.moved]
    here = [posting for posting, index in part.moved if index == part.index]
    own = bucket(sql.SQL("coalesce(p.stripe_source, p.stripe_balance_transaction, '')"), part)
    if not moved:
        return own
    return sql.SQL("CASE WHEN p.id = ANY({moved}) THEN p.id = ANY({here}) ELSE {own} END").format(
        moved=sql.Literal(moved), here=sql.Literal(here), own=own
    )


def rekeyed_postings(account: str, start: int, end: int, count: int) -> sql.Composed:
    """(posting id, slice) of the postings in [start, end) whose claimed balance transaction
    (in the local copy) has a key other than the id the posting claims first: a wrong or
    missing source on the posting. They go where their Stripe row is."""
    return sql.SQL(
        "SELECT p.id, {slice} FROM ledger_postings p"
        " JOIN stripe_balance_transactions s"
        " ON s.id = p.stripe_balance_transaction AND s.account = {account}"
        " WHERE {accounts} AND p.occurred_at >= to_timestamp({start})"
        " AND p.occurred_at < to_timestamp({end})"
        " AND coalesce(s.source, s.id) <> coalesce(p.stripe_source, p.stripe_balance_transaction)"
    ).format(
        slice=slice_number(sql.SQL("coalesce(s.source, s.id)"), count),
        account=sql.Literal(account),
        accounts=account_filter("p", account),
        start=sql.Literal(int(start)),
        end=sql.Literal(int(end)),
    )
