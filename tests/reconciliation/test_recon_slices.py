"""Hash slices of one (day, account, currency): a day split into N partitions, each loading
only its slice from PostgreSQL, gives exactly the findings of the day in one piece — timing
across midnight, a duplicate booking, a probable match and every other planted kind — and
slices run by the real actors (staged once: reconciliation/staging.py) merge into one run
and leave no staging table (reconciliation/slices.py). The slices of
a plan cover the 32-bit hash space exactly once, PostgreSQL's slice number agrees with the
ranges, and a slice's queries on both sides are range scans of the slice indexes (migration
0010), not scans of the whole day."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import sql
from recon_plants import DAY
from recon_slicing import findings, planted_day
from recon_world import World
from sqlalchemy import select, text

from models import ReconciliationRun
from models.db import transaction
from reconciliation import ledger_source, runs, service, slices, staging, stripe_cache
from reconciliation.pgcopy import driver_connection
from reconciliation.service import run_day
from reconciliation.slices import slice_count
from reconciliation.stripe_source import ApiSource
from reconciliation.window import day


def run_sliced(world: World, parts: int) -> int:
    """The platform's day as `parts` hash slices, each reconciled on its own."""
    window = day(DAY)
    margin = service.DEFAULT_MARGIN_S
    with world.sessions() as session:
        plan = ledger_source.plan_slices(
            session, "platform", window.start - margin, window.end + margin, parts
        )
    with transaction(world.sessions) as session:
        run_id = runs.start_run(session, window, "platform", source="cache", partitions=parts).id
    finished = [
        service.run_partition(world.sessions, run_id, None, part=plan.at(i), http=world.http())
        for i in range(parts)
    ]
    assert finished == [False] * (parts - 1) + [True]
    return run_id


def test_four_slices_find_exactly_what_one_piece_finds(world: World) -> None:
    planted_day(world)
    whole = run_day(world.sessions, ApiSource(world.http()), DAY)
    kinds = {d.kind for d in whole.result.discrepancies}
    assert {"timing", "duplicate_in_ledger", "probable_match", "missing_in_stripe"} <= kinds

    sliced = run_sliced(world, 4)
    assert findings(world, sliced) == findings(world, whole.run_id)
    with world.sessions() as session:
        run = session.get(ReconciliationRun, sliced)
        assert run is not None and run.status == "discrepancies"
        assert (run.partitions, run.partitions_done) == (run.partitions, run.partitions)
        assert (run.stripe_rows, run.ledger_rows, run.matched, run.discrepancy_count) == (
            whole.result.counts.stripe_rows,
            whole.result.counts.ledger_rows,
            whole.result.counts.matched,
            whole.result.counts.discrepancies,
        )
        assert run.totals == [t.to_dict() for t in whole.result.totals]


def test_slices_are_disjoint_cover_the_day_and_keep_pairs_together(world: World) -> None:
    planted_day(world)
    run_day(world.sessions, ApiSource(world.http()), DAY)
    window = day(DAY)
    start, end = window.start - service.DEFAULT_MARGIN_S, window.end + service.DEFAULT_MARGIN_S
    with world.sessions() as session:
        plan = ledger_source.plan_slices(session, "platform", start, end, 4)
        assert plan.probe_keys == ("usd:7700",)  # the posting booked by hand with no Stripe id
        assert len(plan.moved) == 2  # that posting, and the one with the mistyped source
        stripe_all = stripe_cache.load(session, "platform", start, end)
        ledger_all = ledger_source.load_ledger_frame(session, "platform", start, end)
        stripe_parts, ledger_parts = [], []
        for i in range(4):
            part = plan.at(i)
            stripe_parts.append(stripe_cache.load(session, "platform", start, end, part=part))
            ledger_parts.append(
                ledger_source.load_ledger_frame(session, "platform", start, end, part=part)
            )
    stripe_ids = [set(p["balance_transaction"]) for p in stripe_parts]
    posting_ids = [set(p["posting_id"]) for p in ledger_parts]
    assert sorted(x for s in stripe_ids for x in s) == sorted(stripe_all["balance_transaction"])
    assert sorted(x for s in posting_ids for x in s) == sorted(ledger_all["posting_id"])
    assert sum(1 for s in stripe_ids if s) >= 2  # really split, not all in one slice
    # Every posting sits with the Stripe row it claims by balance transaction id.
    for stripe_part, ledger_part in zip(stripe_parts, ledger_parts, strict=True):
        claimed = set(ledger_part["balance_transaction"].dropna())
        elsewhere = claimed & set(stripe_all["balance_transaction"]) - set(
            stripe_part["balance_transaction"]
        )
        assert not elsewhere


def test_slices_run_by_the_actors_merge_into_one_run(
    world: World, worker: Any, broker: Any
) -> None:
    from jobs import reconciliation as recon_jobs

    planted_day(world)
    direct = run_day(world.sessions, ApiSource(world.http()), DAY)
    recon_jobs.configure(world.http())
    try:
        # 4 rows a slice: a handful of slices per currency, on the worker's threads.
        recon_jobs.reconcile_day.send(DAY, "platform", "UTC", None, 4)
        broker.join("reconciliation")
        worker.join()
    finally:
        recon_jobs.configure(None)
    with world.sessions() as session:
        run = session.scalars(
            select(ReconciliationRun).where(ReconciliationRun.id != direct.run_id)
        ).one()
        window = day(DAY)
        margin = service.DEFAULT_MARGIN_S
        start, end = window.start - margin, window.end + margin
        rows = max(
            stripe_cache.count(session, "platform", start, end),
            ledger_source.count_postings(session, "platform", start, end),
        )
    parts = slice_count(rows, 4)
    assert parts > 1
    assert (run.partitions, run.partitions_done) == (parts, parts)
    assert run.status == "discrepancies" and run.superseded_by_id is None
    assert findings(world, run.id) == findings(world, direct.run_id)
    with world.sessions() as session:  # the job staged its slices; the last merge took them
        assert staging.tables(session) == []


COUNTS = [1, 2, 3, 4, 7, 10, 11, 64, 1000, 4096]


@pytest.mark.parametrize("count", COUNTS)
def test_slice_ranges_cover_the_hash_space_once_in_order(count: int) -> None:
    ranges = [slices.hash_range(i, count) for i in range(count)]
    assert ranges[0][0] == -(2**31)
    assert ranges[-1][1] == 2**31 - 1
    for (_, last), (first, _) in zip(ranges, ranges[1:], strict=False):
        assert first == last + 1
    sizes = [last - first + 1 for first, last in ranges]
    assert sum(sizes) == 2**32
    assert max(sizes) - min(sizes) <= 1  # as even as integers allow


def test_postgresql_slice_number_agrees_with_the_ranges(sessions: Any) -> None:
    with sessions() as session:
        connection = driver_connection(session)
        for count in (3, 10, 11):
            query = slices.slice_number(sql.SQL("k"), count)
            rows = connection.execute(
                sql.SQL(
                    "SELECT hashtext(k), {} FROM (SELECT 'key' || g AS k"
                    " FROM generate_series(1, 3000) AS g) AS keys"
                ).format(query)
            ).fetchall()
            seen = set()
            for hashed, number in rows:
                first, last = slices.hash_range(number, count)
                assert first <= hashed <= last
                seen.add(number)
            assert seen == set(range(count))


_MANY_ROWS = """
WITH stripe AS (
    INSERT INTO stripe_balance_transactions
        (id, account, type, source, amount, fee, net, currency, status, created)
    SELECT 'txn_many' || g, 'platform', 'charge', 'ch_many' || g, 100, 0, 100, 'usd',
           'available', to_timestamp(:start + g % (:end - :start))
    FROM generate_series(1, 50000) AS g
)
INSERT INTO ledger_postings (kind, occurred_at, stripe_balance_transaction, stripe_source)
SELECT 'charge', to_timestamp(:start + g % (:end - :start)), 'txn_many' || g, 'ch_many' || g
FROM generate_series(1, 50000) AS g
"""


def index_conditions(connection: Any, query: Any) -> dict[str, list[str]]:
    """Index name -> its index conditions, over every node of the query's plan."""
    plan = connection.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query)).fetchone()[0]
    found: dict[str, list[str]] = {}

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node:
            found.setdefault(node["Index Name"], []).append(str(node.get("Index Cond", "")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def test_a_slice_reads_its_rows_by_the_slice_indexes(world: World) -> None:
    planted_day(world)
    run_day(world.sessions, ApiSource(world.http()), DAY)
    window = day(DAY)
    start, end = window.start - service.DEFAULT_MARGIN_S, window.end + service.DEFAULT_MARGIN_S
    with world.sessions() as session:
        plan = ledger_source.plan_slices(session, "platform", start, end, 4)
        # The posting booked by hand, and the one Stripe row it can be paired with by amount.
        assert plan.probe_keys == ("usd:7700",) and len(plan.stripe_moved) == 1
        # The day as the planner sees it at scale: 50,000 more rows a side, in this
        # transaction only (never committed; the queries are only planned).
        session.execute(text(_MANY_ROWS), {"start": start, "end": end})
        session.execute(text("ANALYZE stripe_balance_transactions, ledger_postings"))
        connection = driver_connection(session)
        for index, query in (
            (
                "ix_stripe_balance_transactions_recon_slice",
                stripe_cache.cache_query("platform", start, end, part=plan.at(2)),
            ),
            (
                "ix_ledger_postings_recon_slice",
                ledger_source.ledger_query("platform", start, end, part=plan.at(2)),
            ),
        ):
            conditions = index_conditions(connection, query)
            assert index in conditions
            (condition,) = conditions[index]
            assert "date_bin" in condition and "hashtext" in condition
            first, last = plan.at(2).hash_range()
            assert str(first) in condition and str(last) in condition
