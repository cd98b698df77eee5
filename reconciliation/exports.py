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

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Carrier, Discrepancy, ReconciliationRun, Shipper
from models.money import minor_digits as exponent
from models.money import to_major_decimal
from reconciliation.cells import neutralise
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
    names = party_names(session, {run.account, *(row.account for row in rows if row.account)})
    return {
        "run_id": run.id,
        "date": run.day.isoformat(),
        "timezone": run.timezone,
        "account": run.account,
        "account_name": names.get(run.account),
        "names": names,
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


def party_names(session: Session, ids: set[str]) -> dict[str, str]:
    """Carrier names of connected accounts (acct_…) and shipper names of customers (cus_…)."""
    accounts = [i for i in ids if i.startswith("acct_")]
    customers = [i for i in ids if i.startswith("cus_")]
    names: dict[str, str] = {}
    if accounts:
        query = select(Carrier.stripe_account_id, Carrier.name)
        for key, name in session.execute(query.where(Carrier.stripe_account_id.in_(accounts))):
            names[str(key)] = str(name)
    if customers:
        query = select(Shipper.stripe_customer_id, Shipper.name)
        for key, name in session.execute(query.where(Shipper.stripe_customer_id.in_(customers))):
            names[str(key)] = str(name)
    return names


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
    "account_name",
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


def discrepancy_rows(report: dict[str, Any], *, neutralised: bool = True) -> list[dict[str, Any]]:
    """Flat rows for CSV/XLSX: major display text and exact minor units side by side. Text
    that a spreadsheet would run as a formula is neutralised unless asked otherwise (the
    XLSX writer marks such cells as text instead)."""
    rows = []
    for item in report["discrepancies"]:
        account = item["account"] or report["account"]
        row: dict[str, Any] = {
            "run_id": report["run_id"],
            "date": report["date"],
            "account": account,
            "account_name": report.get("names", {}).get(account, ""),
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
        rows.append({k: neutralise(v) for k, v in row.items()} if neutralised else row)
    return rows


def totals_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per currency: major display text and exact minor units of every total."""
    rows = []
    for totals in report["totals"]:
        currency = totals["currency"]
        row: dict[str, Any] = {"run_id": report["run_id"], "date": report["date"]}
        row.update(account=report["account"], currency=currency)
        for field in TOTAL_FIELDS:
            row[field] = major_text(totals[field], currency)
            row[f"{field}_minor"] = int(totals[field])
        rows.append({k: neutralise(v) for k, v in row.items()})
    return rows


TOTALS_COLUMNS = (
    "run_id",
    "date",
    "account",
    "currency",
    *(name for field in TOTAL_FIELDS for name in (field, f"{field}_minor")),
)


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def to_csv(report: dict[str, Any], part: str = "discrepancies") -> str:
    """The discrepancies of a run, one per line (a clean run: the header alone); with
    part="totals", the per-currency totals instead."""
    if part == "totals":
        columns, rows = TOTALS_COLUMNS, totals_rows(report)
    elif part == "discrepancies":
        columns, rows = DISCREPANCY_COLUMNS, discrepancy_rows(report)
    else:
        raise ValueError(f"unknown CSV part {part!r}: expected discrepancies or totals")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_xlsx(report: dict[str, Any]) -> bytes:
    """The workbook finance opens (see xlsx_report)."""
    from reconciliation.xlsx_report import to_xlsx as workbook  # it builds on this module

    return workbook(report)


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
