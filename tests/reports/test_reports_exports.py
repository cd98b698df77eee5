"""The exports finance opens: a workbook that reads like one (bold frozen filtered headers,
fitted widths, real dates, money formats, a summary of the accounts covered), CSV with the
totals too, a static HTML copy of the day without controls, and no cell a spreadsheet would
run as a formula (OWASP CSV injection). And payout batching failures shown to finance."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import select

from models import Discrepancy
from models.db import transaction
from reconciliation import casework
from reconciliation.cells import neutralise

FORMULA_NOTE = '=HYPERLINK("http://evil.example","refund")'


def note_a_formula(report_day, sessions) -> int:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        discrepancy = session.scalars(
            select(Discrepancy).where(
                Discrepancy.run_id == report_day.outcome.run_id,
                Discrepancy.kind == "fee_mismatch",
            )
        ).one()
        casework.resolve(session, discrepancy.id, casework.Actor("finance"), FORMULA_NOTE)
        return discrepancy.id


def test_text_cells_are_never_formulas_in_csv_or_xlsx(report_day, browserless, sessions):  # type: ignore[no-untyped-def]
    note_a_formula(report_day, sessions)
    client = browserless("finance")
    body = client.get(f"/reports/{report_day.day}/download.csv").get_data(as_text=True)
    rows = {row["kind"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["fee_mismatch"]["resolution_note"] == "'" + FORMULA_NOTE
    # Our own numbers stay numbers: a negative amount is not neutralised.
    assert rows["missing_in_ledger"]["stripe_amount"].startswith("-")
    for trigger in ("=1+2", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"):
        assert neutralise(trigger) == "'" + trigger
    assert neutralise("-12.34") == "-12.34" and neutralise("ok") == "ok"

    xlsx = client.get(f"/reports/{report_day.day}/download.xlsx").get_data()
    sheet = load_workbook(io.BytesIO(xlsx))["Discrepancies"]
    header = [c.value for c in sheet[1]]
    noted = next(
        row
        for row in sheet.iter_rows(min_row=2)
        if row[header.index("kind")].value == "fee_mismatch"
    )
    cell = noted[header.index("resolution_note")]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (FORMULA_NOTE, "s", True)
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_the_workbook_reads_like_one(report_day, browserless):  # type: ignore[no-untyped-def]
    client = browserless("finance")
    book = load_workbook(io.BytesIO(client.get(f"/reports/{report_day.day}/download.xlsx").data))
    sheet = book["Discrepancies"]
    header = [c.value for c in sheet[1]]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert (
        sheet.column_dimensions["A"].width
        < sheet.column_dimensions[chr(ord("A") + header.index("explanation"))].width
        <= 62
    )
    when = sheet.cell(row=2, column=header.index("occurred_at") + 1)
    assert isinstance(when.value, dt.datetime) and when.number_format == "yyyy-mm-dd hh:mm:ss"
    amount = sheet.cell(row=2, column=header.index("stripe_amount") + 1)
    assert amount.number_format.startswith("#,##0")
    summary = book["Summary"]
    fields = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2, max_col=2)}
    assert isinstance(fields["started_at"], dt.datetime)
    assert isinstance(fields["finished_at"], dt.datetime)
    assert fields["started_at"] <= fields["finished_at"]
    labels = [row[0].value for row in summary.iter_rows()]
    assert "Accounts covered" in labels
    covered = labels.index("Accounts covered")
    assert summary.cell(row=covered + 3, column=1).value == "platform"
    assert book["Totals"].freeze_panes == "A2"


def test_csv_totals_are_available(report_day, browserless):  # type: ignore[no-untyped-def]
    client = browserless("finance")
    response = client.get(f"/reports/{report_day.day}/download.csv?part=totals")
    assert response.status_code == 200
    assert "totals.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    totals = {t.currency: t for t in report_day.outcome.result.totals}
    assert {row["currency"] for row in rows} == set(totals)
    usd = next(row for row in rows if row["currency"] == "usd")
    assert int(usd["difference_net_minor"]) == totals["usd"].difference_net
    assert client.get(f"/reports/{report_day.day}/download.csv?part=x").status_code == 404


def test_a_static_html_copy_has_every_discrepancy_and_no_controls(report_day, browserless):  # type: ignore[no-untyped-def]
    client = browserless("finance")
    response = client.get(f"/reports/{report_day.day}/download.html")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    page = response.get_data(as_text=True)
    assert 'id="static-copy"' in page
    assert "Sign out" not in page and "Re-run this day" not in page and "<form" not in page
    for finding in report_day.outcome.result.discrepancies:
        assert f'data-kind="{finding.kind}"' in page
    live = client.get(f"/reports/{report_day.day}").get_data(as_text=True)
    assert "Sign out" in live and "Re-run this day" in live


def test_payout_batching_failures_show_on_the_finance_pages(report_day, browserless, sessions):  # type: ignore[no-untyped-def]
    from payments import scheduled_runs

    period = dt.date.today().isoformat()
    scheduled_runs.mark_failed(sessions, "payout_batching", period, "refused: has not ended")
    page = browserless("finance").get("/reports").get_data(as_text=True)
    assert 'id="payout-failures"' in page and 'data-payout-attention="period"' in page
    assert "refused: has not ended" in page
