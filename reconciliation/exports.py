"""A stored run as a report: the JSON document, and CSV / XLSX files for finance.

Money stays integer minor units in JSON (exactly as Stripe and the database hold it). CSV and
XLSX add major-unit display columns (e.g. `stripe_amount` "12.34" usd, "1500" jpy, "1.234"
kwd) with the exact minor units alongside (`stripe_amount_minor`); the display is formatted
from the integer, never computed in floating point.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Discrepancy, ReconciliationRun
from models.money import minor_digits as exponent
from models.money import to_major_decimal
from reconciliation.errors import RunNotFound

MONEY_FIELDS = ("stripe_amount", "ledger_amount", "difference", "stripe_fee", "ledger_fee")
TOTAL_FIELDS = (
    "stripe_amount",
    "stripe_fee",
    "stripe_net",
    "ledger_amount",
    "ledger_fee",
    "ledger_net",
    "difference_net",
)
FORMATS = ("json", "csv", "xlsx")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def run_report(session: Session, run_id: int) -> dict[str, Any]:
    """The JSON report of a stored run: the shape `midway recon run --format json` prints."""
    run = session.get(ReconciliationRun, run_id)
    if run is None:
        raise RunNotFound(f"no reconciliation run {run_id}")
    rows = session.scalars(
        select(Discrepancy)
        .where(Discrepancy.run_id == run_id)
        .order_by(Discrepancy.occurred_at, Discrepancy.id)
    ).all()
    return {
        "run_id": run.id,
        "date": run.day.isoformat(),
        "timezone": run.timezone,
        "account": run.account,
        "status": run.status,
        "source": run.source,
        "source_detail": run.source_detail,
        "window": {"start": _iso(run.window_start), "end": _iso(run.window_end)},
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "superseded_by": run.superseded_by_id,
        "error": run.error,
        "counts": {
            "stripe_rows": run.stripe_rows,
            "ledger_rows": run.ledger_rows,
            "matched": run.matched,
            "discrepancies": run.discrepancy_count,
        },
        "totals": [dict(row) for row in run.totals],
        "discrepancies": [_discrepancy(row) for row in rows],
    }


def _discrepancy(row: Discrepancy) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "currency": row.currency,
        "stripe_balance_transaction": row.stripe_balance_transaction,
        "stripe_source": row.stripe_source,
        "ledger_refs": list(row.ledger_refs or []),
        "stripe_amount": row.stripe_amount,
        "ledger_amount": row.ledger_amount,
        "difference": row.difference,
        "stripe_fee": row.stripe_fee,
        "ledger_fee": row.ledger_fee,
        "explanation": row.explanation,
        "status": row.status,
        "resolution_note": row.resolution_note,
        "account": row.account,
        "stripe_type": row.stripe_type,
        "matched_by": row.matched_by,
        "ledger_currency": row.ledger_currency,
        "occurred_at": _iso(row.occurred_at),
        "fingerprint": row.fingerprint,
    }


def major(amount: int | None, currency: str) -> Decimal | None:
    """The exact major-unit value of a minor-unit amount (display only)."""
    return None if amount is None else to_major_decimal(int(amount), currency)


def major_text(amount: int | None, currency: str) -> str:
    value = major(amount, currency)
    return "" if value is None else f"{value:.{exponent(currency)}f}"


DISCREPANCY_COLUMNS = (
    "run_id",
    "date",
    "account",
    "kind",
    "status",
    "currency",
    "stripe_balance_transaction",
    "stripe_source",
    "ledger_refs",
    *(name for field in MONEY_FIELDS for name in (field, f"{field}_minor")),
    "explanation",
    "resolution_note",
    "occurred_at",
    "matched_by",
    "fingerprint",
)


def discrepancy_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat rows for CSV/XLSX: major display text and exact minor units side by side."""
    rows = []
    for item in report["discrepancies"]:
        row: dict[str, Any] = {
            "run_id": report["run_id"],
            "date": report["date"],
            "account": item["account"] or report["account"],
            "kind": item["kind"],
            "status": item["status"],
            "currency": item["currency"],
            "stripe_balance_transaction": item["stripe_balance_transaction"] or "",
            "stripe_source": item["stripe_source"] or "",
            "ledger_refs": " ".join(item["ledger_refs"]),
            "explanation": item["explanation"],
            "resolution_note": item["resolution_note"] or "",
            "occurred_at": item["occurred_at"] or "",
            "matched_by": item["matched_by"] or "",
            "fingerprint": item["fingerprint"],
        }
        for field in MONEY_FIELDS:
            value = item[field]
            row[field] = major_text(value, item["currency"])
            row[f"{field}_minor"] = "" if value is None else int(value)
        rows.append(row)
    return rows


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def to_csv(report: dict[str, Any]) -> str:
    """The discrepancies of a run, one per line (a clean run: the header alone)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(DISCREPANCY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(discrepancy_rows(report))
    return buffer.getvalue()


def to_xlsx(report: dict[str, Any]) -> bytes:
    """A workbook with Summary, Totals and Discrepancies sheets."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    for key in ("run_id", "date", "timezone", "account", "status", "source", "source_detail"):
        summary.append([key, report[key]])
    for key, value in report["counts"].items():
        summary.append([key, value])
    summary.append(["started_at", report["started_at"]])
    summary.append(["finished_at", report["finished_at"]])

    totals = book.create_sheet("Totals")
    totals.append(["currency", *TOTAL_FIELDS, *(f"{f}_minor" for f in TOTAL_FIELDS)])
    for row in report["totals"]:
        currency = row["currency"]
        totals.append(
            [
                currency,
                *(major(row[f], currency) for f in TOTAL_FIELDS),
                *(int(row[f]) for f in TOTAL_FIELDS),
            ]
        )
        _number_format(totals, totals.max_row, 2, len(TOTAL_FIELDS), exponent(currency))

    sheet = book.create_sheet("Discrepancies")
    sheet.append(list(DISCREPANCY_COLUMNS))
    money_columns = [DISCREPANCY_COLUMNS.index(f) + 1 for f in MONEY_FIELDS]
    for item, row in zip(report["discrepancies"], discrepancy_rows(report), strict=True):
        values = [row[name] for name in DISCREPANCY_COLUMNS]
        for column in money_columns:
            field = DISCREPANCY_COLUMNS[column - 1]
            values[column - 1] = major(item[field], item["currency"])
            values[column] = item[field]
        sheet.append(values)
        for column in money_columns:
            _number_format(sheet, sheet.max_row, column, 1, exponent(item["currency"]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _number_format(sheet: Any, row: int, first: int, count: int, digits: int) -> None:
    pattern = "#,##0" + (f".{'0' * digits}" if digits else "")
    for column in range(first, first + count):
        sheet.cell(row=row, column=column).number_format = pattern


def write(report: dict[str, Any], path: Path, fmt: str | None = None) -> str:
    """Write the report to `path` as json/csv/xlsx (from the suffix when fmt is None)."""
    fmt = (fmt or path.suffix.lstrip(".") or "json").lower()
    if fmt == "json":
        path.write_text(to_json(report), encoding="utf-8")
    elif fmt == "csv":
        path.write_text(to_csv(report), encoding="utf-8", newline="")
    elif fmt == "xlsx":
        path.write_bytes(to_xlsx(report))
    else:
        raise ValueError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt
