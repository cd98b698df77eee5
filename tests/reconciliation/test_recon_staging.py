"""Staged slices (reconciliation/staging.py): the day written once into one table per slice
and side holds exactly the rows the index-read slices read, gives exactly the findings of the
day in one piece, and leaves no table behind — after a run, after a slice delivered twice,
after a failing slice and its retry, and after a build left by a run that ended. The ledger
side is built in pieces of posting ids (lines aggregated per range) or of time (per posting):
the tests that compare rows and findings run with each."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from recon_plants import DAY, base_day, oob_refund
from recon_slicing import findings, planted_day
from recon_world import World, unix
from sqlalchemy import text

from models import ReconciliationRun
from models.db import transaction
from reconciliation import ledger_source, runs, service, slices, staging, stripe_cache
from reconciliation.pgcopy import driver_connection
from reconciliation.service import run_day
from reconciliation.slices import Slice, staged_table
from reconciliation.stripe_source import ApiSource
from reconciliation.window import day

PARTS = 4


def window_bounds() -> tuple[int, int]:
    window = day(DAY)
    return window.start - service.DEFAULT_MARGIN_S, window.end + service.DEFAULT_MARGIN_S


@pytest.fixture(params=["ids", "time"])
def pieces(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The ledger side built in ranges of posting ids, or of time (as for postings that fill
    their ids too sparsely): the build must write the same rows either way."""
    monkeypatch.setattr(staging, "DENSE_IDS", 0.0 if request.param == "ids" else math.inf)
    built = staging._ledger_rows
    forms: set[str] = set()

    def recorded(*args: Any, **kwargs: Any) -> sql.Composed:
        forms.add("time" if len(args) < 5 or args[4] is None else "ids")
        return built(*args, **kwargs)

    monkeypatch.setattr(staging, "_ledger_rows", recorded)
    yield request.param
    assert forms == {request.param}


def staged_run(world: World, parts: int = PARTS) -> tuple[int, Slice]:
    """A run of the platform's day created up front and its slices staged, as the job does."""
    start, end = window_bounds()
    with transaction(world.sessions) as session:
        run_id = runs.start_run(session, day(DAY), "platform", source="cache", partitions=parts).id
    plan = staging.stage(world.sessions, run_id, "platform", start, end, parts)
    return run_id, plan


def partition(world: World, run_id: int, part: Slice) -> bool:
    return service.run_partition(world.sessions, run_id, None, part=part, http=world.http())


def left_over(world: World) -> list[str]:
    with world.sessions() as session:
        return staging.tables(session)


def run_of(world: World, run_id: int) -> ReconciliationRun:
    with world.sessions() as session:
        run = session.get(ReconciliationRun, run_id)
        assert run is not None
        session.expunge(run)
        return run


def test_staged_slices_hold_the_rows_the_index_slices_read(world: World, pieces: str) -> None:
    planted_day(world)
    run_day(world.sessions, ApiSource(world.http()), DAY)
    start, end = window_bounds()
    _, staged = staged_run(world)
    with world.sessions() as session:
        by_index = ledger_source.plan_slices(session, "platform", start, end, PARTS)
        assert staged.probe_keys == by_index.probe_keys == ("usd:7700",)
        for i in range(PARTS):
            for side, (load, key) in enumerate(
                (
                    (stripe_cache.load, "balance_transaction"),
                    (ledger_source.load_ledger_frame, "posting_id"),
                )
            ):
                read = load(session, "platform", start, end, part=by_index.at(i))
                written = load(session, "platform", start, end, part=staged.at(i))
                # The pages the build reports are those of the rows read back.
                assert bool(staged.staged_pages[i][side]) == (len(written) > 0)
                assert sorted(written[key]) == sorted(read[key])
                assert (
                    written.sort_values(key)
                    .reset_index(drop=True)
                    .equals(read.sort_values(key).reset_index(drop=True))
                )
    assert sum(s + p for s, p in staged.staged_pages) > 0


def slice_of(world: World, key: str) -> int:
    with world.sessions() as session:
        query = sql.SQL("SELECT {}").format(slices.slice_number(sql.Literal(key), PARTS))
        return int(driver_connection(session).execute(query).fetchone()[0])  # type: ignore[index]


def assert_mistyped_refund_goes_with_its_row(
    world: World, txn: str, amount: int, occurred_at: int
) -> None:
    """Book a refund that claims balance transaction `txn` with a source of another slice:
    the staged slices must hold it in the slice of its Stripe row's key only, as the
    index-read plan moves it."""
    with world.sessions() as session:
        row = stripe_cache.load_ids(session, "platform", [txn]).iloc[0]
    theirs = slice_of(world, row["source"])
    typo = next(f"re_typo{n}" for n in range(100) if slice_of(world, f"re_typo{n}") != theirs)
    posting = world.book(
        kind="refund", amount=amount, occurred_at=occurred_at, txn=txn, source=typo
    )
    _, staged = staged_run(world)
    start, end = window_bounds()
    with world.sessions() as session:
        assert (posting.id, theirs) in ledger_source.plan_slices(
            session, "platform", start, end, PARTS
        ).moved
        read = [
            ledger_source.load_ledger_frame(session, "platform", start, end, part=staged.at(i))
            for i in range(PARTS)
        ]
    holding = [i for i, frame in enumerate(read) if posting.id in set(frame["posting_id"])]
    assert holding == [theirs]


def test_a_posting_whose_stripe_row_is_in_another_piece_of_the_window_goes_with_it(
    world: World, pieces: str
) -> None:
    # A posting booked in the afternoon that claims (with a mistyped source) a refund Stripe
    # created in the morning, in another piece of the window: the piece writes it to the
    # slice of its mistyped source, and it must still end in its Stripe row's slice, as the
    # index-read plan moves it (the build finds it among its slice's postings whose row is
    # not in that slice and moves it before the split; the slice it leaves may be left with
    # no row but a page, which must not read as a table emptied by a restart).
    base = base_day(world)
    txn = oob_refund(world, base, 3_00, "10:45")
    world.at(unix("2026-03-11 12:00"))
    run_day(world.sessions, ApiSource(world.http()), DAY)
    start, end = window_bounds()
    middle = start + (end - start) // staging.LEDGER_PIECES
    assert unix(f"{DAY} 10:45") < middle <= unix(f"{DAY} 13:30")
    assert_mistyped_refund_goes_with_its_row(world, txn, -3_00, unix(f"{DAY} 13:30"))


def test_a_posting_whose_stripe_row_is_outside_the_window_goes_to_that_rows_slice(
    world: World,
) -> None:
    # A posting of the day that claims, with a mistyped source, a refund Stripe created the
    # next morning (in the local copy, not in the window, so in no slice's Stripe table): it
    # is found among the postings whose row is not in their own slice, looked up by id, and
    # goes to the slice of that row's key, as the index-read plan moves it.
    txn = oob_refund(world, base_day(world), 2_00, "09:00", day="2026-03-11")
    world.at(unix("2026-03-12 12:00"))
    for day_ in (DAY, "2026-03-11"):
        run_day(world.sessions, ApiSource(world.http()), day_)
    assert unix("2026-03-11 09:00") >= window_bounds()[1]
    assert_mistyped_refund_goes_with_its_row(world, txn, -2_00, unix(f"{DAY} 23:50"))


def test_staged_slices_find_what_one_piece_finds_and_leave_no_table(
    world: World, pieces: str
) -> None:
    planted_day(world)
    whole = run_day(world.sessions, ApiSource(world.http()), DAY)
    run_id, plan = staged_run(world)
    assert len(left_over(world)) == 2 * PARTS
    done = [partition(world, run_id, plan.at(i)) for i in range(PARTS)]
    assert done == [False] * (PARTS - 1) + [True]
    assert findings(world, run_id) == findings(world, whole.run_id)
    run = run_of(world, run_id)
    assert (run.stripe_rows, run.ledger_rows, run.matched, run.discrepancy_count) == (
        whole.result.counts.stripe_rows,
        whole.result.counts.ledger_rows,
        whole.result.counts.matched,
        whole.result.counts.discrepancies,
    )
    assert left_over(world) == []


def test_a_slice_delivered_twice_is_added_once(world: World) -> None:
    planted_day(world)
    whole = run_day(world.sessions, ApiSource(world.http()), DAY)
    run_id, plan = staged_run(world)
    assert partition(world, run_id, plan.at(0)) is False
    before = run_of(world, run_id)
    assert partition(world, run_id, plan.at(0)) is False  # the second delivery
    again = run_of(world, run_id)
    assert (again.partitions_done, again.stripe_rows, again.ledger_rows) == (
        before.partitions_done,
        before.stripe_rows,
        before.ledger_rows,
    )
    assert [partition(world, run_id, plan.at(i)) for i in range(1, PARTS)][-1] is True
    assert partition(world, run_id, plan.at(PARTS - 1)) is False  # after the run finished
    assert findings(world, run_id) == findings(world, whole.run_id)
    assert run_of(world, run_id).matched == whole.result.counts.matched
    assert left_over(world) == []


def test_a_failing_slice_fails_the_run_drops_its_tables_and_its_retry_does_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted_day(world)
    run_day(world.sessions, ApiSource(world.http()), DAY)
    run_id, plan = staged_run(world)
    assert partition(world, run_id, plan.at(0)) is False

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("worker lost its database")

    with monkeypatch.context() as patch:
        patch.setattr(service, "reconcile", broken)
        with pytest.raises(RuntimeError, match="worker lost"):
            partition(world, run_id, plan.at(1))
    run = run_of(world, run_id)
    assert run.status == "failed" and "slice 2/4" in (run.error or "")
    assert left_over(world) == []
    # The retry of the failed job, and the slices not yet run: nothing to do, no error.
    assert [partition(world, run_id, plan.at(i)) for i in range(PARTS)] == [False] * PARTS
    assert run_of(world, run_id).partitions_done == 1


def test_a_slice_emptied_by_a_restart_fails_rather_than_reporting_rows_missing(
    world: World,
) -> None:
    planted_day(world)
    run_day(world.sessions, ApiSource(world.http()), DAY)
    run_id, plan = staged_run(world)
    full = next(i for i, (s, p) in enumerate(plan.staged_pages) if s and p)
    with transaction(world.sessions) as session:  # what crash recovery does to UNLOGGED tables
        session.execute(text(f'TRUNCATE "{staged_table(run_id, full, "stripe")}"'))
    with pytest.raises(RuntimeError, match="restart of PostgreSQL"):
        partition(world, run_id, plan.at(full))
    assert run_of(world, run_id).status == "failed"
    assert left_over(world) == []


def test_the_next_split_drops_what_ended_runs_left(world: World) -> None:
    planted_day(world)
    ended, _ = staged_run(world, 2)
    running, _ = staged_run(world, 2)
    with transaction(world.sessions) as session:
        runs.fail_run(session, ended, "the split job died after staging")
    with transaction(world.sessions) as session:
        assert staging.drop_stale(session) == 4
    assert left_over(world) == sorted(
        staged_table(running, i, side) for i in range(2) for side in ("ledger", "stripe")
    )
    with transaction(world.sessions) as session:
        session.execute(
            text(
                "UPDATE reconciliation_runs SET started_at = now() - interval '2 days'"
                " WHERE id = :id"
            ),
            {"id": running},
        )
    with transaction(world.sessions) as session:
        assert staging.drop_stale(session) == 4
    assert left_over(world) == []


def test_a_build_that_fails_leaves_no_table(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    planted_day(world)
    written = staging._insert

    def stripe_side_fails(sessions: Any, run_id: int, side: str, rows: Any) -> None:
        if side == "stripe":
            raise RuntimeError("connection lost while staging")
        written(sessions, run_id, side, rows)

    monkeypatch.setattr(staging, "_insert", stripe_side_fails)
    with pytest.raises(RuntimeError, match="connection lost"):
        staged_run(world)
    assert left_over(world) == []
