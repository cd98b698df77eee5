"""Exports of a stored run (CSV, XLSX read back with openpyxl, JSON) and alerts: a structured
log line and a Slack-compatible POST; a failing alert endpoint never fails the run."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_hook import Hook
from openpyxl import load_workbook
from recon_plants import DAY, base_day, plant_duplicate_in_ledger, plant_fee_mismatch
from recon_world import World

from reconciliation import exports
from reconciliation.service import run_day
from reconciliation.stripe_source import ApiSource


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook(200)
    yield server
    server.close()


def planted_report(world: World, url: str | None = None) -> dict[str, Any]:
    base = base_day(world)
    plant_fee_mismatch(world, base)  # jpy: zero decimals
    plant_duplicate_in_ledger(world, base)  # kwd: three decimals
    outcome = run_day(world.sessions, ApiSource(world.http()), DAY, alert_webhook_url=url)
    with world.sessions() as session:
        return exports.run_report(session, outcome.run_id)


def test_csv_and_xlsx_carry_major_display_and_exact_minor_units(
    world: World, tmp_path: Path
) -> None:
    report = planted_report(world)
    rows = {r["kind"]: r for r in csv.DictReader(io.StringIO(exports.to_csv(report)))}
    assert rows["fee_mismatch"]["currency"] == "jpy"
    assert (
        rows["fee_mismatch"]["difference"] == "50"
        and rows["fee_mismatch"]["difference_minor"] == "50"
    )
    dup = rows["duplicate_in_ledger"]
    assert dup["stripe_amount"] == "12.345" and dup["stripe_amount_minor"] == "12345"
    assert dup["ledger_amount"] == "24.690" and dup["difference_minor"] == "-12345"

    path = tmp_path / "run.xlsx"
    assert exports.write(report, path) == "xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "Totals", "Discrepancies"]
    sheet = book["Discrepancies"]
    header = [c.value for c in sheet[1]]
    cells = {row[header.index("kind")].value: row for row in sheet.iter_rows(min_row=2)}
    kwd = cells["duplicate_in_ledger"]
    assert kwd[header.index("stripe_amount_minor")].value == 12_345
    assert kwd[header.index("stripe_amount")].number_format == "#,##0.000"
    assert cells["fee_mismatch"][header.index("difference")].number_format == "#,##0"
    totals = book["Totals"]
    currencies = [row[0].value for row in totals.iter_rows(min_row=2)]
    assert currencies == ["jpy", "kwd", "usd"]
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows()}
    assert summary["status"] == "discrepancies" and summary["discrepancies"] == 2

    as_json = json.loads(exports.to_json(report))
    assert as_json["counts"]["discrepancies"] == 2
    assert all(isinstance(d["stripe_amount"], int) for d in as_json["discrepancies"])


def test_alert_posts_a_short_summary_and_logs_a_structured_line(
    world: World, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="midway.reconciliation.alerts"):
        report = planted_report(world, hook.url)
    (body,) = hook.bodies
    assert set(body) == {"text"}
    assert f"Reconciliation of {DAY}" in body["text"] and "1 fee_mismatch" in body["text"]
    assert "1 duplicate_in_ledger" in body["text"] and str(report["run_id"]) in body["text"]
    line = json.loads(caplog.records[0].getMessage())
    assert line["event"] == "reconciliation.discrepancies" and line["discrepancies"] == 2
    assert line["by_kind"] == {"duplicate_in_ledger": 1, "fee_mismatch": 1}


def test_a_failing_alert_endpoint_never_fails_the_run(world: World) -> None:
    failing = Hook(500)
    try:
        report = planted_report(world, failing.url)
    finally:
        failing.close()
    assert report["status"] == "discrepancies" and len(failing.bodies) == 1
    # Nothing listening at all: still a stored run.
    outcome = run_day(
        world.sessions, ApiSource(world.http()), DAY, alert_webhook_url="http://127.0.0.1:9/x"
    )
    assert outcome.status == "discrepancies"


def test_a_clean_run_sends_no_alert(world: World, hook: Hook) -> None:
    base_day(world)
    run_day(world.sessions, ApiSource(world.http()), DAY, alert_webhook_url=hook.url)
    assert hook.bodies == []
