"""Hash slices: one account's day split into `count` partitions that each load only their
share of both sides from PostgreSQL, so a worker's memory is per slice and so is its reading.

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
  (`probe_keys`; normally a handful) takes that key too (`stripe_moved`, planned once per
  run). So a probable match is found exactly as in one piece, and two real errors with
  equal amounts still meet and are still told apart by the matcher's rules.
Every row lands in exactly one slice, so counts, totals and findings add up across slices
(runs.add_result merges them as it merges currency partitions).

A slice is a contiguous range of the 32-bit `hashtext` of the key (slice i of N holds the
hashes h with floor((h + 2^31) · N / 2^32) = i), computed by the one server that holds both
sides. Both tables have an index on (account, UTC hour, hashtext(key)) (models/ledger.py,
models/reconciliation.py), so a slice can read its rows as one index range per hour of the
window, the few moved rows by primary key (`plan_slices`, the path the tests compare with).
But a slice's rows are spread over the whole day's heap, so ten slices read it ten times:
the job instead stages the day once, the moves applied, into one table per slice and side
(reconciliation/staging.py; `Slice.staged`), and a slice reads its own tables whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from psycopg import sql

from models.base import hour_bucket
from reconciliation.rules import TYPE_FAMILY

PLATFORM = "platform"
HASH_SPACE = 1 << 32
LOWEST_HASH = -(1 << 31)
HOUR_S = 3600
# The slice keys, as the slice indexes spell them (`{0}` is the table alias and a dot).
POSTING_KEY = "coalesce({0}stripe_source, {0}stripe_balance_transaction, '')"
STRIPE_KEY = "coalesce({0}source, {0}id)"
# Staging tables of sliced runs (reconciliation/staging.py): <prefix><run>_<slice>_<side>.
STAGED_PREFIX = "recon_stage_"
# A posting's human reference in the LEDGER frame (`{0}`: its id column).
POSTING_REF = "'posting:' || {0}"
# Frame columns a staging table does not store, so the build writes fewer bytes a row: the
# account (the same in every row of a run) and the posting's reference (from its id).
UNSTORED = ("account", "posting_ref")


@dataclass(frozen=True)
class Slice:
    """Partition `index` of `count` (0 <= index < count). `probe_keys`: the "currency:amount"
    of the postings that claim no Stripe id; `moved`: (posting id, slice) of the postings
    whose slice is not the hash of the id they claim themselves (those without one, and
    those whose claimed balance transaction has another source); `stripe_moved`: (balance
    transaction id, slice) of the unclaimed Stripe rows keyed by a probe key. All come from
    `ledger_source.plan_slices`, once per run. `staged`: the run whose staging tables hold
    every slice's rows already (reconciliation/staging.py); the slice then reads its own
    tables and needs no moves (they are applied when staging)."""

    index: int
    count: int
    probe_keys: tuple[str, ...] = ()
    moved: tuple[tuple[int, int], ...] = ()
    stripe_moved: tuple[tuple[str, int], ...] = ()
    staged: int | None = None
    # (Stripe side, ledger side) of each slice: pages the build wrote to its tables.
    staged_pages: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"slice {self.index} of {self.count} does not exist")

    def at(self, index: int) -> Slice:
        return replace(self, index=index)

    def hash_range(self) -> tuple[int, int]:
        """The first and last hashtext value of this slice (both included)."""
        return hash_range(self.index, self.count)

    def to_message(self) -> dict[str, Any]:
        """JSON-safe arguments for a partition job."""
        return {
            "index": self.index,
            "count": self.count,
            "probe_keys": list(self.probe_keys),
            "moved": [list(m) for m in self.moved],
            "stripe_moved": [list(m) for m in self.stripe_moved],
            "staged": self.staged,
            "staged_pages": [list(r) for r in self.staged_pages],
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Slice:
        return cls(
            int(data["index"]),
            int(data["count"]),
            tuple(str(k) for k in data["probe_keys"]),
            tuple((int(p), int(i)) for p, i in data["moved"]),
            tuple((str(s), int(i)) for s, i in data.get("stripe_moved", ())),
            None if data.get("staged") is None else int(data["staged"]),
            tuple((int(s), int(p)) for s, p in data.get("staged_pages", ())),
        )


def staged_table(run_id: int, index: int, side: str) -> str:
    """The staging table of one side ("stripe" or "ledger") of slice `index` of a run."""
    return f"{STAGED_PREFIX}{run_id}_{index}_{side}"


def staged_select(part: Slice, side: str, names: list[str], account: str) -> sql.Composed:
    """The SELECT of a staged slice's rows of one side (`names`, the frame's columns, the
    UNSTORED ones rebuilt): its own table, whole."""
    assert part.staged is not None
    rebuilt = {
        "account": sql.Literal(account),
        "posting_ref": sql.SQL(POSTING_REF.format('"posting_id"')),
    }
    return sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(rebuilt.get(name, sql.Identifier(name)) for name in names),
        sql.Identifier(staged_table(part.staged, part.index, side)),
    )


def check_staged(part: Slice, side: str, rows: int) -> None:
    """Refuse a staged slice found empty where the build wrote rows: UNLOGGED tables come
    back empty after a crash of PostgreSQL (all of a table or none of it: its writes were
    committed whole), which must not read as a day of missing rows."""
    if not part.staged_pages:
        return
    pages = part.staged_pages[part.index][0 if side == "stripe" else 1]
    if pages and not rows:
        raise RuntimeError(
            f"{staged_table(part.staged or 0, part.index, side)} is empty, the build wrote "
            f"{pages} pages to it (emptied by a restart of PostgreSQL?); reconcile the day again"
        )


def slice_count(rows: int, rows_per_slice: int) -> int:
    """How many slices keep each at about `rows_per_slice` rows (at least one)."""
    return max(1, -(-rows // max(1, rows_per_slice)))


def hash_range(index: int, count: int) -> tuple[int, int]:
    """Slice `index` of `count`: hashes from LOWEST_HASH + ceil(index · 2^32 / count) up to
    the next slice's first hash − 1, so the slices cover the 32-bit space once, in order."""
    first = LOWEST_HASH + -(-index * HASH_SPACE // count)
    following = LOWEST_HASH + -(-(index + 1) * HASH_SPACE // count)
    return first, following - 1


def slice_number(key: sql.Composable, count: int) -> sql.Composed:
    """The slice of `key` (SQL text), 0 … count-1, as hash_range cuts the hash space."""
    return sql.SQL("((hashtext({key})::bigint + {half}) * {count}) / {space}").format(
        key=key,
        half=sql.Literal(-LOWEST_HASH),
        count=sql.Literal(count),
        space=sql.Literal(HASH_SPACE),
    )


def hours(start: int, end: int) -> sql.Composed:
    """The UTC hours (as models.base.hour_bucket gives them) that [start, end) touches."""
    first, last = start - start % HOUR_S, (end - 1) - (end - 1) % HOUR_S
    return sql.SQL("ARRAY[{}]").format(
        sql.SQL(", ").join(
            sql.SQL("to_timestamp({})").format(sql.Literal(h))
            for h in range(first, last + 1, HOUR_S)
        )
    )


def in_range(
    key: str, alias: str, time_column: str, part: Slice, start: int, end: int
) -> sql.Composed:
    """`alias`'s rows of [start, end) whose hashed key falls in `part`'s range, in the terms
    of the slice index (hour bucket = ANY(hours), then the hash range)."""
    first, last = part.hash_range()
    return sql.SQL("{hour} = ANY({hours}) AND hashtext({key}) BETWEEN {first} AND {last}").format(
        hour=sql.SQL(hour_bucket(f"{alias}.{time_column}")),
        hours=hours(start, end),
        key=sql.SQL(key.format(f"{alias}.")),
        first=sql.Literal(first),
        last=sql.Literal(last),
    )


def with_moves(
    own: sql.Composable, id_column: str, moves: tuple[tuple[Any, int], ...], index: int
) -> sql.Composed:
    """`own` less the moved rows, or a row moved to slice `index` (read by primary key)."""
    if not moves:
        return sql.SQL("({})").format(own)
    return sql.SQL("(({own} AND NOT {column} = ANY({moved})) OR {column} = ANY({here}))").format(
        own=own,
        column=sql.SQL(id_column),
        moved=sql.Literal([row for row, _ in moves]),
        here=sql.Literal([row for row, at in moves if at == index]),
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


def stripe_filter(part: Slice, start: int, end: int) -> sql.Composed:
    """WHERE condition on the cache table aliased `s` (its account already chosen) for the
    rows of this slice."""
    own = in_range(STRIPE_KEY, "s", "created", part, start, end)
    return with_moves(own, "s.id", part.stripe_moved, part.index)


def posting_filter(part: Slice, start: int, end: int) -> sql.Composed:
    """WHERE condition (before aggregation, so a slice reads only its postings' lines) on
    ledger_postings aliased `p` (its account already chosen): the hash of the id the
    posting claims, or its move."""
    own = in_range(POSTING_KEY, "p", "occurred_at", part, start, end)
    return with_moves(own, "p.id", part.moved, part.index)


def _window(alias: str, column: str, start: int, end: int) -> sql.Composed:
    return sql.SQL("{a}.{c} >= to_timestamp({s}) AND {a}.{c} < to_timestamp({e})").format(
        a=sql.SQL(alias), c=sql.SQL(column), s=sql.Literal(int(start)), e=sql.Literal(int(end))
    )


def rekeyed_postings(account: str, start: int, end: int, count: int) -> sql.Composed:
    """(posting id, slice) of the postings in [start, end) whose claimed balance transaction
    (in the local copy) has a key other than the id the posting claims first: a wrong or
    missing source on the posting. They go where their Stripe row is."""
    return sql.SQL(
        "SELECT p.id, {slice} FROM ledger_postings p"
        " JOIN stripe_balance_transactions s"
        " ON s.id = p.stripe_balance_transaction AND s.account = {account}"
        " WHERE {accounts} AND {window}"
        " AND {stripe_key} <> coalesce(p.stripe_source, p.stripe_balance_transaction)"
    ).format(
        slice=slice_number(sql.SQL(STRIPE_KEY.format("s.")), count),
        account=sql.Literal(account),
        accounts=account_filter("p", account),
        window=_window("p", "occurred_at", start, end),
        stripe_key=sql.SQL(STRIPE_KEY.format("s.")),
    )


def bigint_array(values: tuple[int, ...] | list[int]) -> sql.Composed:
    """A constant bigint[] (ANY() over a constant needs no parameter fetched per row)."""
    return sql.SQL("CAST({} AS bigint[])").format(
        sql.Literal("{" + ",".join(str(int(v)) for v in values) + "}")
    )


def probe_key(alias: str) -> sql.Composed:
    """The "currency:amount" of a Stripe row (`alias`: the cache table's alias)."""
    return sql.SQL("{0}.currency || ':' || {0}.amount::text").format(sql.SQL(alias))


def unclaimed(account: str, start: int, end: int) -> sql.Composed:
    """The cache row aliased `s` is claimed by no posting of `account` in [start, end), by
    balance transaction id or (same type family, its own Stripe row not in the local copy)
    by source."""
    return sql.SQL(
        "NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE {accounts} AND {window}"
        " AND p.reverses_posting_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM ledger_postings r WHERE r.reverses_posting_id = p.id)"
        " AND (p.stripe_balance_transaction = s.id"
        " OR (p.stripe_source = s.source AND {posting_family} = {row_family}"
        " AND NOT EXISTS (SELECT 1 FROM stripe_balance_transactions c"
        " WHERE c.id = p.stripe_balance_transaction AND c.account = s.account))))"
    ).format(
        accounts=account_filter("p", account),
        window=_window("p", "occurred_at", start, end),
        posting_family=family("p.kind"),
        row_family=family("s.type"),
    )


def probed_stripe_rows(
    account: str, start: int, end: int, probe_keys: tuple[str, ...], count: int
) -> sql.Composed:
    """(balance transaction id, slice) of `account`'s Stripe rows created in [start, end)
    whose "currency:amount" is a probe key and that no posting in [start, end) claims
    (`unclaimed`): they go to the slice of that key, with the postings booked by hand."""
    return sql.SQL(
        "SELECT s.id, {slice} FROM stripe_balance_transactions s"
        " WHERE s.account = {account} AND {stripe_window} AND {probe} = ANY({keys})"
        " AND {unclaimed}"
    ).format(
        slice=slice_number(probe_key("s"), count),
        account=sql.Literal(account),
        stripe_window=_window("s", "created", start, end),
        probe=probe_key("s"),
        keys=sql.Literal(list(probe_keys)),
        unclaimed=unclaimed(account, start, end),
    )
