"""What `midway recon` prints: a readable table of a run, and progress bars on stderr."""

from __future__ import annotations

import sys
from typing import Any

import click

from models.money import format_minor


def _money(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_minor(int(amount), currency)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def render_table(report: dict[str, Any]) -> str:
    counts = report["counts"]
    lines = [
        f"Reconciliation of {report['date']} ({report['timezone']}), account "
        f"{report['account']}{_name(report)}: run {report['run_id']}, "
        f"{report['status'].upper()}",
        f"source {report['source']}"
        + (f" ({report['source_detail']})" if report.get("source_detail") else ""),
        f"Stripe rows {counts['stripe_rows']}, ledger postings {counts['ledger_rows']}, "
        f"matched {counts['matched']}, discrepancies {counts['discrepancies']}",
        "",
    ]
    if report.get("error"):
        lines += [f"error: {report['error']}", ""]
    totals = [
        [
            row["currency"].upper(),
            _money(row["stripe_amount"], row["currency"]),
            _money(row["stripe_fee"], row["currency"]),
            _money(row["stripe_net"], row["currency"]),
            _money(row["ledger_amount"], row["currency"]),
            _money(row["ledger_fee"], row["currency"]),
            _money(row["ledger_net"], row["currency"]),
            _money(row["difference_net"], row["currency"]),
        ]
        for row in report["totals"]
    ]
    headers = [
        "currency",
        "Stripe gross",
        "Stripe fee",
        "Stripe net",
        "ledger gross",
        "ledger fee",
        "ledger net",
        "net difference",
    ]
    lines += _table(headers, totals) + [""]
    if not report["discrepancies"]:
        lines.append("No discrepancies: Stripe and the ledger agree for this day.")
        return "\n".join(lines) + "\n"
    rows = [
        [
            item["kind"],
            item["status"],
            item["currency"].upper(),
            item["stripe_balance_transaction"] or "-",
            ", ".join(item["ledger_refs"]) or "-",
            _money(item["stripe_amount"], item["currency"]) or "-",
            _money(item["ledger_amount"], item["ledger_currency"] or item["currency"]) or "-",
            _money(item["difference"], item["currency"]) or "-",
        ]
        for item in report["discrepancies"]
    ]
    headers = [
        "kind",
        "status",
        "cur",
        "Stripe txn",
        "ledger",
        "Stripe amount",
        "ledger amount",
        "difference",
    ]
    lines += _table(headers, rows) + ["", "Explanations:"]
    for number, item in enumerate(report["discrepancies"], 1):
        note = f" [note: {item['resolution_note']}]" if item.get("resolution_note") else ""
        lines.append(f"{number:>3}. {item['explanation']}{note}")
    return "\n".join(lines) + "\n"


class StderrProgress:
    """Progress on stderr: a bar when the row count is known, a running count otherwise."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._count: int | None = None
        self._name = ""

    def stage(self, name: str, total: int | None = None) -> None:
        self._close()
        if not self.enabled:
            return
        self._name = name
        if total:
            self._bar = click.progressbar(length=total, label=name, file=sys.stderr)
            self._bar.__enter__()
        else:
            self._count = 0
            click.echo(f"{name}…", err=True, nl=False)

    def advance(self, rows: int) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(rows)
        elif self._count is not None:
            self._count += rows
            click.echo(f"\r{self._name}… {self._count:,} rows", err=True, nl=False)

    def done(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        if self._count is not None:
            click.echo("", err=True)
            self._count = None


def _name(report: dict[str, Any]) -> str:
    name = report.get("account_name")
    return f" ({name})" if name else ""
