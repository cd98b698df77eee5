"""`midway recon run/show/export` on a real database and stripe_sim: exit codes 0/1/2, the
JSON report's shape, the table, files written with --out, and errors that persist nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from recon_plants import DAY, base_day, plant_missing_in_ledger
from recon_world import World
from sqlalchemy import func, select

from cli.main import cli
from models import ReconciliationRun

REPORT_KEYS = {
    "run_id",
    "date",
    "timezone",
    "account",
    "status",
    "counts",
    "totals",
    "discrepancies",
}
COUNT_KEYS = {"stripe_rows", "ledger_rows", "matched", "discrepancies"}
TOTAL_KEYS = {
    "currency",
    "stripe_amount",
    "stripe_fee",
    "stripe_net",
    "ledger_amount",
    "ledger_fee",
    "ledger_net",
    "difference_net",
}
DISCREPANCY_KEYS = {
    "kind",
    "currency",
    "stripe_balance_transaction",
    "stripe_source",
    "ledger_refs",
    "stripe_amount",
    "ledger_amount",
    "difference",
    "explanation",
    "status",
}


@pytest.fixture
def midway(world: World, committed_database_url: str):  # type: ignore[no-untyped-def]
    env = {
        "DATABASE_URL": committed_database_url,
        "STRIPE_API_BASE": world.sim_url,
        "STRIPE_API_KEY": "sk_test_midway",
        "RECON_TIMEZONE": "UTC",
        "ALERT_WEBHOOK_URL": None,
    }

    def invoke(*args: str, **extra_env: str | None) -> Result:
        return CliRunner().invoke(cli, ["recon", *args], env={**env, **extra_env})

    return invoke


def runs(world: World) -> int:
    with world.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ReconciliationRun)) or 0)


def test_clean_day_exits_0_with_the_json_report(world: World, midway) -> None:  # type: ignore[no-untyped-def]
    base_day(world)
    result = midway("run", "--date", DAY, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert REPORT_KEYS <= set(report) and COUNT_KEYS <= set(report["counts"])
    assert (report["date"], report["timezone"], report["account"]) == (DAY, "UTC", "platform")
    assert report["status"] == "clean" and report["discrepancies"] == []
    assert all(TOTAL_KEYS <= set(row) for row in report["totals"])
    assert {row["currency"] for row in report["totals"]} == {"usd", "jpy", "kwd"}


def test_discrepancies_exit_1_table_by_default_and_files_with_out(
    world: World,
    midway,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    base = base_day(world)
    plant_missing_in_ledger(world, base)
    table = midway("run", "--date", DAY)
    assert table.exit_code == 1, table.output
    assert "DISCREPANCIES" in table.stdout and "missing_in_ledger" in table.stdout
    assert "fetching from Stripe" in table.stderr  # progress goes to stderr

    out = tmp_path / "day.json"
    result = midway("run", "--date", DAY, "--format", "json", "--out", str(out), "--quiet")
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    assert report["status"] == "discrepancies" and report["counts"]["discrepancies"] == 1
    (item,) = report["discrepancies"]
    assert DISCREPANCY_KEYS <= set(item)
    assert (item["kind"], item["stripe_amount"], item["status"]) == (
        "missing_in_ledger",
        -500,
        "open",
    )

    xlsx = tmp_path / "day.xlsx"
    assert midway("export", "--run-id", str(report["run_id"]), "--out", str(xlsx)).exit_code == 0
    sheet = load_workbook(xlsx)["Discrepancies"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["kind"] == "missing_in_ledger" and row["stripe_amount_minor"] == -500

    shown = midway("show", "--run-id", str(report["run_id"]), "--format", "json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["run_id"] == report["run_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2999-01-01"], "has not begun yet"),
        (["--date", DAY, "--account", "acct_nobody"], "unknown account 'acct_nobody'"),
        (["--date", "2026-02-30"], "not YYYY-MM-DD"),
        (["--date", DAY, "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--date", DAY, "--source", "nowhere.csv"], "existing CSV file"),
    ],
)
def test_bad_input_exits_2_and_persists_nothing(
    world: World,
    midway,
    args: list[str],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    result = midway("run", *args, "--quiet")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert runs(world) == 0


def test_api_source_without_stripe_base_exits_2_naming_the_setting(world: World, midway) -> None:  # type: ignore[no-untyped-def]
    result = midway("run", "--date", DAY, STRIPE_API_BASE=None)
    assert result.exit_code == 2 and "STRIPE_API_BASE" in result.stderr


def test_malformed_report_file_exits_2_naming_row_and_column(
    world: World,
    midway,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    report = tmp_path / "itemized.csv"
    report.write_text(
        "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n"
        "txn_1,2026-03-10 10:00:00,usd,12.00,0.30,11.70,charge\n"
        "txn_2,2026-03-10 11:00:00,usd,twelve,0.30,11.70,charge\n"
    )
    result = midway("run", "--date", DAY, "--source", str(report), "--quiet")
    assert result.exit_code == 2
    assert "row 3, column 'gross'" in result.stderr
    with world.sessions() as session:  # the refused attempt is recorded, with its reason
        (run,) = session.scalars(select(ReconciliationRun)).all()
    assert run.status == "failed" and "row 3, column 'gross'" in (run.error or "")


def test_stripe_down_exits_2_and_records_a_failed_run(world: World, midway) -> None:  # type: ignore[no-untyped-def]
    result = midway(
        "run",
        "--date",
        DAY,
        "--quiet",
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_CONNECT_TIMEOUT_S="0.5",
    )
    assert result.exit_code == 2 and "unreachable" in result.stderr
    with world.sessions() as session:
        assert session.scalars(select(ReconciliationRun.status)).all() == ["failed"]
