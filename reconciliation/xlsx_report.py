"""A stored run as the workbook finance opens: Summary, Totals and Discrepancies sheets.

Each table has a bold, frozen header row with filters and column widths that fit its
contents; money is a number in major units with its currency's decimals (`#,##0.00`, `#,##0`
for jpy, `#,##0.000` for kwd) beside the exact minor units; times are real Excel dates in the
run's time zone. Text is always written as a string cell, never as a formula (see `cells`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models.money import minor_digits
from models.reconciliation import DiscrepancyStatus
from reconciliation.cells import is_risky
from reconciliation.exports import (
    DISCREPANCY_COLUMNS,
    MONEY_FIELDS,
    TOTAL_FIELDS,
    discrepancy_rows,
    major,
)

DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
MAX_WIDTH = 60
WRAPPED = frozenset({"explanation", "resolution_note"})
BOLD = Font(bold=True)


def money_format(currency: str) -> str:
    digits = minor_digits(currency)
    return "#,##0" + (f".{'0' * digits}" if digits else "")


def to_xlsx(report: dict[str, Any]) -> bytes:
    """The workbook of a run report (`exports.run_report`), as bytes."""
    tz = ZoneInfo(report["timezone"])
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    _summary(summary, report, tz)
    _totals(book.create_sheet("Totals"), report)
    _discrepancies(book.create_sheet("Discrepancies"), report, tz)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def local_time(text: str | None, tz: ZoneInfo) -> dt.datetime | None:
    """An ISO timestamp as a naive datetime in `tz` (Excel dates carry no zone)."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text).astimezone(tz).replace(tzinfo=None)


def _put(
    sheet: Worksheet, row: int, column: int, value: Any, number_format: str | None = None
) -> Cell:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text begins with
        if is_risky(value):
            cell.quotePrefix = True
    if isinstance(value, dt.datetime):
        cell.number_format = DATE_FORMAT
    elif number_format:
        cell.number_format = number_format
    return cell


def _header(sheet: Worksheet, row: int, names: Sequence[str]) -> None:
    for column, name in enumerate(names, start=1):
        _put(sheet, row, column, name).font = BOLD


def _finish_table(sheet: Worksheet, header_row: int, wrap: Sequence[int] = ()) -> None:
    """Freeze and filter the header row; fit the column widths to the contents."""
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.auto_filter.ref = (
        f"A{header_row}:{get_column_letter(sheet.max_column)}{max(sheet.max_row, header_row)}"
    )
    for column in range(1, sheet.max_column + 1):
        width = max(
            (
                len(str(sheet.cell(row=r, column=column).value or ""))
                for r in range(header_row, sheet.max_row + 1)
            ),
            default=8,
        )
        if isinstance(sheet.cell(row=header_row + 1, column=column).value, dt.datetime):
            width = len(DATE_FORMAT)
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
        if column in wrap:
            for r in range(header_row + 1, sheet.max_row + 1):
                sheet.cell(row=r, column=column).alignment = Alignment(
                    wrap_text=True, vertical="top"
                )


def _summary(sheet: Worksheet, report: dict[str, Any], tz: ZoneInfo) -> None:
    rows: list[tuple[str, Any]] = [
        ("run_id", report["run_id"]),
        ("date", report["date"]),
        ("timezone", report["timezone"]),
        ("account", report["account"]),
        ("account_name", report.get("account_name") or ""),
        ("status", report["status"]),
        ("source", report["source"]),
        ("source_detail", report["source_detail"] or ""),
        *((key, value) for key, value in report["counts"].items()),
        (
            "outstanding",
            sum(1 for d in report["discrepancies"] if d["status"] != DiscrepancyStatus.RESOLVED),
        ),
        ("started_at", local_time(report["started_at"], tz)),
        ("finished_at", local_time(report["finished_at"], tz)),
        ("error", report["error"] or ""),
    ]
    _header(sheet, 1, ["field", "value"])
    for number, (key, value) in enumerate(rows, start=2):
        _put(sheet, number, 1, key).font = BOLD
        _put(sheet, number, 2, value)
    _finish_table(sheet, 1)

    # The accounts covered and their totals, below the run's fields.
    start = sheet.max_row + 2
    _put(sheet, start, 1, "Accounts covered").font = BOLD
    _header(
        sheet,
        start + 1,
        ["account", "name", "currency", "stripe_net", "ledger_net", "difference_net"],
    )
    row = start + 2
    for totals in report["totals"] or [{"currency": ""}]:
        currency = totals["currency"]
        _put(sheet, row, 1, report["account"])
        _put(sheet, row, 2, report.get("account_name") or "")
        _put(sheet, row, 3, currency)
        for offset, field in enumerate(("stripe_net", "ledger_net", "difference_net"), start=4):
            if field in totals:
                _put(sheet, row, offset, major(totals[field], currency), money_format(currency))
        row += 1


def _totals(sheet: Worksheet, report: dict[str, Any]) -> None:
    _header(sheet, 1, ["currency", *TOTAL_FIELDS, *(f"{f}_minor" for f in TOTAL_FIELDS)])
    for number, totals in enumerate(report["totals"], start=2):
        currency = totals["currency"]
        _put(sheet, number, 1, currency)
        for offset, field in enumerate(TOTAL_FIELDS):
            _put(sheet, number, 2 + offset, major(totals[field], currency), money_format(currency))
            _put(sheet, number, 2 + len(TOTAL_FIELDS) + offset, int(totals[field]))
    _finish_table(sheet, 1)


def _discrepancies(sheet: Worksheet, report: dict[str, Any], tz: ZoneInfo) -> None:
    _header(sheet, 1, DISCREPANCY_COLUMNS)
    for number, (item, row) in enumerate(
        zip(report["discrepancies"], discrepancy_rows(report, neutralised=False), strict=True),
        start=2,
    ):
        for offset, name in enumerate(DISCREPANCY_COLUMNS, start=1):
            value: Any = row[name]
            fmt = None
            if name in MONEY_FIELDS:
                value, fmt = major(item[name], item["currency"]), money_format(item["currency"])
            elif name == "occurred_at":
                value = local_time(item["occurred_at"], tz)
            elif value == "":
                value = None
            _put(sheet, number, offset, value, fmt)
    wrap = [DISCREPANCY_COLUMNS.index(name) + 1 for name in WRAPPED]
    _finish_table(sheet, 1, wrap)
