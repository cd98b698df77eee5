"""The ledger loader's reading of postings (reversals, payout failures booked by our own
flow), and the reconcile_day actor: one run per account, and a large day split into
currency partitions run as a Dramatiq group that complete one run."""

from __future__ import annotations

from typing import Any

from recon_plants import DAY, base_day, plant_fee_mismatch
from recon_world import World, unix
from sqlalchemy import select

from models import PayoutBatch, ReconciliationRun
from models.db import transaction
from payments import ledger, payouts
from reconciliation.ledger_source import load_ledger_frame
from reconciliation.service import run_day
from reconciliation.stripe_source import ApiSource
from reconciliation.window import day


def test_a_reversed_posting_and_its_reversal_cancel_out(world: World) -> None:
    base = base_day(world)
    posting = world.posting_of(base.usd_charge_txn)
    with transaction(world.sessions) as session:
        ledger.reverse(session, posting.id)
    window = day(DAY)
    with world.sessions() as session:
        frame = load_ledger_frame(session, "platform", window.start, window.end)
    assert posting.id not in set(frame["posting_id"]) and "reversal" not in set(frame["type"])
    outcome = run_day(world.sessions, ApiSource(world.http()), DAY)
    (finding,) = outcome.result.discrepancies
    assert (finding.kind, finding.stripe_balance_transaction) == (
        "missing_in_ledger",
        base.usd_charge_txn,
    )


def test_a_failed_payout_booked_by_our_flow_reconciles(world: World) -> None:
    base = base_day(world)
    world.sim(f"payouts/{base.payout_id}/fail", {"failure_code": "account_closed"})
    with world.sessions() as session:
        batch_id = session.scalars(
            select(PayoutBatch.id).where(PayoutBatch.stripe_payout_id == base.payout_id)
        ).one()
    assert payouts.advance_batch(world.sessions, world.gateway, batch_id) == "failed"
    window = day(DAY)
    with world.sessions() as session:
        frame = load_ledger_frame(session, base.account, window.start, window.end + 86400)
    statuses = dict(zip(frame["type"], frame["status"], strict=True))
    assert statuses["payout"] == "failed" and "payout_failure" in statuses
    outcome = run_day(world.sessions, ApiSource(world.http()), DAY, base.account)
    assert outcome.status == "clean", [d.explanation for d in outcome.result.discrepancies]


def runs_of(world: World) -> list[ReconciliationRun]:
    with world.sessions() as session:
        return list(session.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id)))


def test_reconcile_day_actor_runs_every_account(world: World, worker: Any, broker: Any) -> None:
    from jobs import reconciliation as recon_jobs

    base = base_day(world)
    recon_jobs.configure(world.http())
    try:
        recon_jobs.reconcile_day.send(DAY, None, "UTC")
        broker.join("reconciliation")
        worker.join()
    finally:
        recon_jobs.configure(None)
    runs = runs_of(world)
    assert sorted(r.account for r in runs) == sorted(["platform", base.account])
    assert {r.status for r in runs} == {"clean"} and {r.source for r in runs} == {"api"}


def test_a_large_day_runs_as_currency_partitions_completing_one_run(
    world: World, worker: Any, broker: Any
) -> None:
    from jobs import reconciliation as recon_jobs

    base = base_day(world)
    plant_fee_mismatch(world, base)
    world.at(unix("2026-03-11 03:00"))
    recon_jobs.configure(world.http())
    try:
        recon_jobs.reconcile_day.send(DAY, "platform", "UTC", 1)  # threshold 1 row: split
        broker.join("reconciliation")
        worker.join()
    finally:
        recon_jobs.configure(None)
    (run,) = runs_of(world)
    assert (run.partitions, run.partitions_done, run.status) == (3, 3, "discrepancies")
    assert (run.stripe_rows, run.matched, run.discrepancy_count) == (5, 4, 1)
    assert [t["currency"] for t in run.totals] == ["jpy", "kwd", "usd"]
    direct = run_day(world.sessions, ApiSource(world.http()), DAY)
    assert direct.result.counts.stripe_rows == run.stripe_rows
    with world.sessions() as session:
        first = session.get(ReconciliationRun, run.id)
        assert first is not None and first.superseded_by_id == direct.run_id
