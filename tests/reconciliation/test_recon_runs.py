"""Persistence: runs and discrepancies stored, re-runs supersede with history, finance's
status and notes carried forward by fingerprint, a clean day recorded, failures recorded."""

from __future__ import annotations

import pytest
from recon_plants import DAY, base_day, plant_fee_mismatch, plant_missing_in_ledger
from recon_world import World, unix
from sqlalchemy import select

from models import Discrepancy, ReconciliationRun, StripeBalanceTransaction
from reconciliation.errors import StripeFetchFailed
from reconciliation.service import run_day
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import ApiSource, CacheSource


def api(world: World) -> ApiSource:
    return ApiSource(world.http())


def test_a_clean_day_is_recorded_as_clean(world: World) -> None:
    base_day(world)
    outcome = run_day(world.sessions, api(world), DAY)
    with world.sessions() as session:
        run = session.get(ReconciliationRun, outcome.run_id)
        assert run is not None
        assert (run.status, run.discrepancy_count, run.stripe_rows) == ("clean", 0, 5)
        assert run.finished_at is not None and run.superseded_by_id is None
        assert {t["currency"] for t in run.totals} == {"usd", "jpy", "kwd"}
        assert run.source == "api" and run.window_start is not None


def test_rerun_supersedes_keeps_history_and_carries_notes_forward(world: World) -> None:
    base = base_day(world)
    plant_missing_in_ledger(world, base)
    first = run_day(world.sessions, api(world), DAY)
    with world.sessions.begin() as session:
        finding = session.scalars(
            select(Discrepancy).where(Discrepancy.run_id == first.run_id)
        ).one()
        finding.status = "acknowledged"
        finding.resolution_note = "Dashboard refund by support; adjusting posting to follow"
        first_id = finding.id

    # A new finding appears before the re-run: it starts open, the old one keeps its note.
    plant_fee_mismatch(world, base)
    second = run_day(world.sessions, api(world), DAY)
    with world.sessions() as session:
        old_run = session.get(ReconciliationRun, first.run_id)
        new_run = session.get(ReconciliationRun, second.run_id)
        assert old_run is not None and new_run is not None
        assert old_run.superseded_by_id == new_run.id and old_run.superseded_at is not None
        assert new_run.superseded_by_id is None and new_run.discrepancy_count == 2
        rows = {
            d.kind: d
            for d in session.scalars(select(Discrepancy).where(Discrepancy.run_id == new_run.id))
        }
        carried = rows["missing_in_ledger"]
        assert carried.status == "acknowledged" and carried.carried_from_id == first_id
        assert carried.resolution_note is not None and "Dashboard refund" in carried.resolution_note
        assert (
            rows["fee_mismatch"].status == "open" and rows["fee_mismatch"].resolution_note is None
        )
        # History: the first run's finding is still there, untouched.
        assert session.get(Discrepancy, first_id) is not None
        assert session.scalars(select(ReconciliationRun.id)).all() == [first.run_id, second.run_id]


def test_rerun_sees_a_fee_stripe_changed_after_the_first_fetch(world: World) -> None:
    base = base_day(world)
    assert run_day(world.sessions, api(world), DAY).status == "clean"
    plant_fee_mismatch(world, base)
    # The cache alone still has the old fee: clean; the API re-fetches the window: not clean.
    assert run_day(world.sessions, CacheSource(), DAY).status == "clean"
    rerun = run_day(world.sessions, api(world), DAY)
    assert [d.kind for d in rerun.result.discrepancies] == ["fee_mismatch"]
    with world.sessions() as session:
        cached = session.get(StripeBalanceTransaction, base.jpy_charge_txn)
        assert cached is not None
        assert cached.fee == world.stripe_txn(base.jpy_charge_txn).fee
        runs = session.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id)).all()
        assert [r.superseded_by_id for r in runs] == [runs[1].id, runs[2].id, None]


def test_the_margin_rows_come_into_the_cache_but_other_days_are_not_fetched(world: World) -> None:
    base = base_day(world)
    world.at(unix("2026-03-12 10:00"))  # two days later: outside the window and the margin
    world.charge(base.shipper, base.carrier, 9_00)
    run_day(world.sessions, api(world), DAY)
    with world.sessions() as session:
        cached = session.scalars(select(StripeBalanceTransaction.created)).all()
    assert len(cached) == 5 and all(str(c.date()) == DAY for c in cached)


def test_stripe_unreachable_records_a_failed_run(world: World) -> None:
    base_day(world)
    dead = ApiSource(StripeHTTP("http://127.0.0.1:9", "sk_test_midway", timeout=(0.5, 0.5)))
    with pytest.raises(StripeFetchFailed, match="unreachable"):
        run_day(world.sessions, dead, DAY)
    with world.sessions() as session:
        run = session.scalars(select(ReconciliationRun)).one()
        assert run.status == "failed" and run.error and "unreachable" in run.error
    # The next good run supersedes the failed one.
    good = run_day(world.sessions, api(world), DAY)
    with world.sessions() as session:
        failed = session.get(ReconciliationRun, run.id)
        assert failed is not None and failed.superseded_by_id == good.run_id
