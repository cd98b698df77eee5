"""Stripe's side from itemized reports: a report run made against the simulator, and a CSV
file finance downloaded (with a dispute our ledger has no rule for). Bad reports are refused,
naming the row and column, and persist nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from recon_plants import DAY, base_day, plant_missing_in_ledger
from recon_world import World, unix
from sqlalchemy import func, select

from models import ReconciliationRun
from reconciliation.errors import ReportRunFailed, RowOutsideWindow
from reconciliation.service import run_day
from reconciliation.stripe_source import ReportFileSource, ReportRunSource
from reconciliation.window import day


def stored_runs(world: World) -> int:
    with world.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ReconciliationRun)) or 0)


def test_report_runs_for_the_platform_and_a_carrier_reconcile(world: World) -> None:
    base = base_day(world)
    with pytest.raises(ReportRunFailed, match="would be incomplete"):
        ReportRunSource(world.http()).fetch(day(DAY), "platform")  # the day is not over
    world.at(unix("2026-03-11 03:00"))
    platform = run_day(world.sessions, ReportRunSource(world.http(), poll_s=0.01), DAY)
    carrier = run_day(world.sessions, ReportRunSource(world.http(), poll_s=0.01), DAY, base.account)
    assert (platform.status, platform.result.counts.stripe_rows) == ("clean", 5)
    assert (carrier.status, carrier.result.counts.stripe_rows) == ("clean", 2)
    plant_missing_in_ledger(world, base)
    world.at(unix("2026-03-11 04:00"))
    again = run_day(world.sessions, ReportRunSource(world.http(), poll_s=0.01), DAY)
    assert [d.kind for d in again.result.discrepancies] == ["missing_in_ledger"]
    with world.sessions() as session:
        run = session.get(ReconciliationRun, again.run_id)
        assert run is not None and run.source == "report"
        assert run.source_detail is not None and run.source_detail.startswith("report run frr_")


def test_downloaded_report_with_a_dispute_reports_unexpected_type(
    world: World, tmp_path: Path
) -> None:
    base_day(world)
    world.at(unix("2026-03-11 03:00"))
    text = ReportRunSource(world.http()).fetch(day(DAY), "platform")
    header = text.splitlines()[0].split(",")
    dispute = dict.fromkeys(header, "")
    dispute.update(
        balance_transaction_id="txn_dispute1",
        created_utc=f"{DAY} 18:00:00",
        currency="usd",
        gross="-25.00",
        fee="15.00",
        net="-40.00",
        reporting_category="dispute",
        source_id="du_1",
    )
    path = tmp_path / "itemized.csv"
    path.write_text(text + ",".join(dispute[c] for c in header) + "\n")
    outcome = run_day(world.sessions, ReportFileSource(path), DAY)
    (finding,) = outcome.result.discrepancies
    assert (finding.kind, finding.stripe_amount, finding.stripe_type) == (
        "unexpected_type",
        -25_00,
        "adjustment",
    )
    assert "dispute" in finding.explanation


def test_a_report_of_another_day_is_refused_and_finance_sees_the_failed_attempt(
    world: World, tmp_path: Path
) -> None:
    base_day(world)
    world.at(unix("2026-03-11 03:00"))
    path = tmp_path / "itemized.csv"
    path.write_text(ReportRunSource(world.http()).fetch(day(DAY), "platform"))
    with pytest.raises(RowOutsideWindow, match=r"row 2, column 'created_utc'"):
        run_day(world.sessions, ReportFileSource(path), "2026-03-11")
    with world.sessions() as session:
        (run,) = session.scalars(select(ReconciliationRun)).all()
        assert (run.status, run.source, run.source_detail) == ("failed", "file", str(path))
        assert run.error is not None and "row 2, column 'created_utc'" in run.error
        assert run.started_at <= run.finished_at  # type: ignore[operator]
        assert run.superseded_by_id is None and run.discrepancy_count == 0
