"""Staged slices: the day of a sliced run written once, already split, one table per slice.

Why: the rows of a hash slice read by index (slices.py) are a tenth of the day spread over
the whole heap, so each slice's index scans touch nearly every page of the day (ten slices
read the day ten times) and planning the moves joins the day's postings to its Stripe rows
once more. Instead the job that splits the day (jobs/reconciliation.py) makes one pass over
each side: every row of the window as its frame's columns but slices.UNSTORED (the ledger's
lines aggregated per posting already) with its slice number, the moves of slices.py applied:
- a posting goes to the slice of the key of the Stripe row it claims by balance transaction
  (in the local copy), else of the id it claims itself; one that claims no Stripe id to the
  slice of its "currency:amount" (a probe key). The ledger's pieces write every posting to
  the slice of the id it claims itself (no join with the Stripe rows); then each slice's
  postings whose balance transaction is not among its own Stripe rows (an anti-join of two
  tables of one slice) are looked up by id, and the few whose row has another key
  (slices.rekeyed_postings, as the index-read plan moves them) are moved to their row's
  slice before the tables are split;
- a Stripe row goes to the slice of its source (else its id), or, when its "currency:amount"
  is a probe key and no posting claims it (slices.unclaimed), to the slice of that key.
So each slice holds exactly the rows `Slice.moved` / `stripe_moved` would give it. Rows go
through a table partitioned by slice, whose partitions are then detached: one UNLOGGED table
per slice and side (no WAL: they are scratch), which the partition job reads whole.

Lifetime: the tables are named after the run (slices.staged_table); a build that fails
drops what it wrote. A partition drops its own two tables in the transaction that adds its
result to the run (`claim`), so a partition job delivered a second time finds them gone and
does nothing: every job may run twice. A failing partition fails the run and drops all of
its tables (`drop_run`). What a crash leaves (the split job dying while building or before
enqueueing, a run abandoned while running) is dropped by the next split of any day
(`drop_stale`): the tables of runs no longer running, or begun more than STALE_AFTER ago.
A restart of PostgreSQL empties UNLOGGED tables; the pages written to each travel in the
message, and a partition that finds empty what the build wrote fails rather than reporting
the day's rows as missing.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.db import transaction
from reconciliation import ledger_source, slices, stripe_cache
from reconciliation.frames import INT, LEDGER_COLUMNS, STRIPE_COLUMNS, Column
from reconciliation.ledger_source import LineRange
from reconciliation.pgcopy import driver_connection
from reconciliation.slices import STAGED_PREFIX, Slice, staged_table

STALE_AFTER = "1 day"
# Building is PostgreSQL's work alone, one core a connection: the ledger side (aggregating
# lines per posting, the bulk of it) is written in this many pieces at once, beside the
# Stripe side. (Pieces by ranges, not by id modulo: the planner then estimates each piece's
# rows right.)
LEDGER_PIECES = 2
# Pieces are ranges of posting ids when the window's postings fill at least this share of
# the ids between their lowest and highest (the usual case: ids follow booking, booking
# follows Stripe): each piece then aggregates its range's lines in one ordered pass
# (ledger_source.LineRange), about half the work of a lookup per posting. Sparser (other
# accounts' or days' postings in between, whose lines the pass would read too), pieces are
# ranges of time, lines aggregated per posting.
DENSE_IDS = 0.75


def _stored(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    return tuple(c for c in columns if c.name not in slices.UNSTORED)


# The columns of each side's staging tables (slices.staged_select rebuilds the others).
_SIDES = (("ledger", _stored(LEDGER_COLUMNS)), ("stripe", _stored(STRIPE_COLUMNS)))
# Room to hash a slice's Stripe ids in memory (finding the postings to move). A range
# of postings' lines is aggregated as the posting_id index returns them, never by hashing
# millions of groups (which would spill to disk).
_BUILD_SETTINGS = (
    "SET LOCAL jit = off",
    "SET LOCAL work_mem = '512MB'",
    "SET LOCAL enable_hashagg = off",
)
_STAGED = re.compile(rf"^{STAGED_PREFIX}(\d+)_")


def stage(
    sessions: sessionmaker[Session], run_id: int, account: str, start: int, end: int, count: int
) -> Slice:
    """Write `account`'s rows of [start, end) of both sides into `count` slices' staging
    tables of run `run_id` and commit; return slice 0 of the plan, staged. The ledger side is
    written in LEDGER_PIECES pieces at once beside the Stripe side and the postings to move
    are found beside them (each its own connection and transaction); a failure drops
    whatever was written and raises."""
    with sessions() as session:
        keys = ledger_source.booked_by_hand(session, account, start, end, 1)
    probe_keys = tuple(sorted({k for _, k, _ in keys}))
    try:
        with transaction(sessions) as session:
            for side, columns in _SIDES:
                _create(driver_connection(session), run_id, side, columns, count)
        with ThreadPoolExecutor(1 + LEDGER_PIECES) as pool:
            # The Stripe side needs nothing more: it starts while the ledger's pieces are cut.
            writes = [
                pool.submit(
                    _insert,
                    sessions,
                    run_id,
                    "stripe",
                    _stripe_rows(account, start, end, count, probe_keys),
                )
            ]
            with sessions() as session:
                pieces = _ledger_pieces(session, account, start, end, count)
            writes += [pool.submit(_insert, sessions, run_id, "ledger", rows) for rows in pieces]
            for write in writes:
                write.result()
            moves = [
                move
                for found in pool.map(
                    lambda index: _rekeyed(sessions, run_id, account, index, count), range(count)
                )
                for move in found
            ]
        with transaction(sessions) as session:
            connection = driver_connection(session)
            _move(connection, run_id, moves)
            written = {side: _split(connection, run_id, side, count) for side, _ in _SIDES}
    except BaseException:
        with transaction(sessions) as session:
            drop_run(session, run_id)
        raise
    return Slice(
        0,
        count,
        probe_keys=probe_keys,
        staged=run_id,
        staged_pages=tuple((written["stripe"][i], written["ledger"][i]) for i in range(count)),
    )


def _ledger_pieces(
    session: Session, account: str, start: int, end: int, count: int
) -> list[sql.Composed]:
    """The SELECTs of the ledger side's LEDGER_PIECES pieces: ranges of posting ids when the
    window's postings fill theirs (DENSE_IDS), else ranges of time."""
    first, last, postings = ledger_source.posting_ids(session, account, start, end)
    if postings and postings >= DENSE_IDS * (last - first + 1):
        balance = ledger_source.balance_accounts(session, account)
        ids = [first + (last + 1 - first) * k // LEDGER_PIECES for k in range(LEDGER_PIECES + 1)]
        return [
            _ledger_rows(account, start, end, count, LineRange(low, following - 1, balance))
            for low, following in zip(ids, ids[1:], strict=False)
            if following > low
        ]
    cuts = [start + (end - start) * k // LEDGER_PIECES for k in range(LEDGER_PIECES + 1)]
    return [
        _ledger_rows(account, low, following, count)
        for low, following in zip(cuts, cuts[1:], strict=False)
    ]


def _parent(run_id: int, side: str) -> sql.Identifier:
    return sql.Identifier(f"{STAGED_PREFIX}{run_id}_{side}")


def _create(
    connection: psycopg.Connection, run_id: int, side: str, columns: tuple[Column, ...], count: int
) -> None:
    """The side's table partitioned by slice, one UNLOGGED partition per slice."""
    parent = _parent(run_id, side)
    connection.execute(
        sql.SQL("CREATE TABLE {} ({}, slice integer NOT NULL) PARTITION BY LIST (slice)").format(
            parent, _definitions(columns)
        )
    )
    for index in range(count):
        connection.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} PARTITION OF {} FOR VALUES IN ({})").format(
                sql.Identifier(staged_table(run_id, index, side)), parent, sql.Literal(index)
            )
        )


def _insert(sessions: sessionmaker[Session], run_id: int, side: str, rows: sql.Composed) -> None:
    with transaction(sessions) as session:
        _build_settings(session)
        driver_connection(session).execute(
            sql.SQL("INSERT INTO {} {}").format(_parent(run_id, side), rows)
        )


def _build_settings(session: Session) -> None:
    for setting in _BUILD_SETTINGS:
        session.execute(text(setting))


def _rekeyed(
    sessions: sessionmaker[Session], run_id: int, account: str, index: int, count: int
) -> list[tuple[int, int]]:
    """(posting id, slice) of the postings written to slice `index` whose claimed Stripe row
    (anywhere in the local copy) has a key of another slice: a wrong or missing source on
    the posting (slices.rekeyed_postings, as the index-read plan finds them). Only a posting
    whose balance transaction is not among its own slice's Stripe rows can be one: those
    few (an anti-join of the slice's two tables, a million rows each) are looked up by
    primary key. One join of the day's postings with all of the account's Stripe rows did
    this before, beside the writes: about the same CPU on the bench's day, but growing with
    the account's history (every row of it hashed, or a lookup per posting)."""
    own = {side: sql.Identifier(staged_table(run_id, index, side)) for side in ("stripe", "ledger")}
    with transaction(sessions) as session:
        _build_settings(session)
        connection = driver_connection(session)
        claimed = connection.execute(
            sql.SQL(
                "SELECT l.posting_id, l.balance_transaction FROM {ledger} l"
                " WHERE l.balance_transaction IS NOT NULL AND NOT EXISTS"
                " (SELECT FROM {stripe} s WHERE s.balance_transaction = l.balance_transaction)"
            ).format(**own)
        ).fetchall()
        if not claimed:
            return []
        rows = connection.execute(
            sql.SQL(
                "SELECT c.posting_id, {slice} FROM stripe_balance_transactions s"
                " JOIN unnest(%s::bigint[], %s::text[]) AS c(posting_id, balance_transaction)"
                " ON s.id = c.balance_transaction WHERE s.account = {account}"
            ).format(
                slice=slices.slice_number(sql.SQL(slices.STRIPE_KEY.format("s.")), count),
                account=sql.Literal(account),
            ),
            [[posting for posting, _ in claimed], [txn for _, txn in claimed]],
        ).fetchall()
    return [(int(posting), int(at)) for posting, at in rows if at != index]


def _move(connection: psycopg.Connection, run_id: int, moves: list[tuple[int, int]]) -> None:
    """Move the staged postings of `moves` ((posting id, slice)) to their slice's partition
    (an UPDATE of the partition key moves the row). Only when there are any: it reads every
    staged posting to find them."""
    if not moves:
        return
    connection.execute(
        sql.SQL(
            "UPDATE {} AS t SET slice = m.slice"
            " FROM unnest(%s::bigint[], %s::integer[]) AS m(posting_id, slice)"
            " WHERE t.posting_id = m.posting_id AND t.slice <> m.slice"
        ).format(_parent(run_id, "ledger")),
        [[posting for posting, _ in moves], [index for _, index in moves]],
    )


def _split(connection: psycopg.Connection, run_id: int, side: str, count: int) -> list[int]:
    """Pages written per slice (the size of its table: no second pass over the rows; none
    when it holds no row, though a posting moved out of it left its page); then every
    partition detached (a table of its own, which its partition job reads and drops alone)
    and the partitioned table dropped."""
    parent = _parent(run_id, side)
    written = [
        int(
            connection.execute(
                sql.SQL(
                    "SELECT CASE WHEN EXISTS (SELECT FROM {table})"
                    " THEN pg_relation_size({name}::regclass)"
                    " / current_setting('block_size')::int ELSE 0 END"
                ).format(
                    table=sql.Identifier(staged_table(run_id, index, side)),
                    name=sql.Literal(f'"{staged_table(run_id, index, side)}"'),
                )
            ).fetchone()[0]  # type: ignore[index]
        )
        for index in range(count)
    ]
    for index in range(count):
        connection.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                parent, sql.Identifier(staged_table(run_id, index, side))
            )
        )
    connection.execute(sql.SQL("DROP TABLE {}").format(parent))
    return written


def _definitions(columns: tuple[Column, ...]) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(
            sql.Identifier(c.name), sql.SQL("bigint" if c.dtype == INT else "text")
        )
        for c in columns
    )


def _names(columns: tuple[Column, ...], alias: str) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(alias, c.name) for c in columns)


def _aliases(columns: tuple[Column, ...]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)


def _ledger_rows(
    account: str, start: int, end: int, count: int, lines: LineRange | None = None
) -> sql.Composed:
    """The LEDGER frame's rows of [start, end) (ledger_query, lines aggregated per posting,
    or over `lines`' range of ids, then only those postings) with the slice of the id each
    posting claims itself (slices.POSTING_KEY), or of its "currency:amount" when it claims
    none. A posting whose Stripe row has another key is moved afterwards (`_rekeyed`)."""
    own_key = sql.SQL("coalesce(q.source, q.balance_transaction, '')")  # slices.POSTING_KEY
    by_hand = sql.SQL("q.currency || ':' || q.amount::text")
    return sql.SQL(
        "SELECT {stored}, CASE WHEN q.balance_transaction IS NULL AND q.source IS NULL"
        " THEN {by_hand} ELSE {own} END"
        " FROM ({inner}) AS q({columns})"
    ).format(
        stored=_names(_stored(LEDGER_COLUMNS), "q"),
        by_hand=slices.slice_number(by_hand, count),
        own=slices.slice_number(own_key, count),
        inner=ledger_source.ledger_query(account, start, end, lines=lines),
        columns=_aliases(LEDGER_COLUMNS),
    )


def _stripe_rows(
    account: str, start: int, end: int, count: int, probe_keys: tuple[str, ...]
) -> sql.Composed:
    """The STRIPE frame's rows of the window with their slice (a row that only a posting
    booked by hand can pair goes to its probe key's slice). The keys' amounts are compared
    first, as integers: only the few rows with one of them spell out their key."""
    own = slices.slice_number(sql.SQL(slices.STRIPE_KEY.format("s.")), count)
    slice_of: sql.Composable = own
    if probe_keys:
        slice_of = sql.SQL(
            "CASE WHEN s.amount = ANY({amounts}) AND {probe} = ANY({keys}) AND {unclaimed}"
            " THEN {probed} ELSE {own} END"
        ).format(
            amounts=slices.bigint_array(sorted({int(k.rsplit(":", 1)[1]) for k in probe_keys})),
            probe=slices.probe_key("s"),
            keys=sql.Literal(list(probe_keys)),
            unclaimed=slices.unclaimed(account, start, end),
            probed=slices.slice_number(slices.probe_key("s"), count),
            own=own,
        )
    return sql.SQL("SELECT {stored}, q.slice FROM ({inner}) AS q({columns}, slice)").format(
        stored=_names(_stored(STRIPE_COLUMNS), "q"),
        inner=stripe_cache.cache_query(account, start, end, extra_column=slice_of),
        columns=_aliases(STRIPE_COLUMNS),
    )


def claim(session: Session, run_id: int, part: Slice) -> bool:
    """In the transaction that adds this slice's result to the run: lock the run, then drop
    the slice's tables; False when they are gone already (the slice was added before, or the
    run failed), and then nothing must be added."""
    session.execute(
        text("SELECT id FROM reconciliation_runs WHERE id = :id FOR UPDATE"), {"id": run_id}
    )
    if not is_staged(session, part):
        return False
    for side in ("stripe", "ledger"):
        session.execute(text(f'DROP TABLE "{staged_table(run_id, part.index, side)}"'))
    return True


def is_staged(session: Session, part: Slice) -> bool:
    """Whether the slice's staging tables are still there (not yet added to its run)."""
    assert part.staged is not None
    name = staged_table(part.staged, part.index, "ledger")
    return session.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f'"{name}"'})


def tables(session: Session) -> list[str]:
    """Every staging table in the current schema."""
    return list(
        session.scalars(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
                " AND starts_with(c.relname, :prefix) ORDER BY c.relname"
            ),
            {"prefix": STAGED_PREFIX},
        )
    )


def drop_run(session: Session, run_id: int) -> int:
    """Drop what is left of a run's staging tables; return how many."""
    return _drop(session, [t for t in tables(session) if _run_of(t) == run_id])


def drop_stale(session: Session) -> int:
    """Drop the staging tables of runs that are no longer running (or began more than
    STALE_AFTER ago, or are not there at all); return how many."""
    found = tables(session)
    live = set(
        session.scalars(
            text(
                "SELECT id FROM reconciliation_runs WHERE id = ANY(:ids) AND status = 'running'"
                f" AND started_at > now() - interval '{STALE_AFTER}'"
            ),
            {"ids": sorted({_run_of(t) for t in found})},
        )
    )
    return _drop(session, [t for t in found if _run_of(t) not in live])


def _run_of(table: str) -> int:
    match = _STAGED.match(table)
    return int(match.group(1)) if match else -1


def _drop(session: Session, names: list[str]) -> int:
    for name in names:
        session.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
    return len(names)
