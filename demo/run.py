"""The demo itself (run in a child process by `midway demo` on a clean environment)."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from config import load_settings
from demo.api import BackendApi
from demo.faults import Fault
from demo.marketplace import Marketplace
from demo.stack import Stack, running_stack
from demo.week import plan_faults, run_week
from models import Payment
from models.db import transaction
from models.money import format_minor
from payments.settlement import rate_text
from reconciliation import exports, runs
from web.keys import create_key

FRESH = ("pgdata", "reports")


class Progress:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.start:5.1f}s] {message}", file=sys.stderr, flush=True)


def found_discrepancies(stack: Stack, days: list[date]) -> dict[tuple[date, str], Counter[str]]:
    found: dict[tuple[date, str], Counter[str]] = {}
    with transaction(stack.sessions) as session:
        for day in days:
            for account in runs.known_accounts(session):
                run = runs.current_run(session, day, account)
                if run is None:
                    continue
                report = exports.run_report(session, run.id)
                found[(day, account)] = Counter(d["kind"] for d in report["discrepancies"])
    return found


def finance_pages(stack: Stack) -> FlaskClient:
    """A test client signed in to the finance pages, as a finance person would be."""
    with transaction(stack.sessions) as session:
        key, _ = create_key(session, role="finance", name="demo finance reports")
        key_id = key.id
    client = stack.app.test_client()
    with client.session_transaction() as browser_session:
        browser_session["user"] = {"id": key_id, "at": time.time()}
    return client


def write_reports(stack: Stack, days: list[date], out: Path) -> dict[date, Path]:
    """Each day and account's report as finance reads it: the HTML page, CSV, XLSX, JSON."""
    folders: dict[date, Path] = {}
    pages = finance_pages(stack)
    with transaction(stack.sessions) as session:
        for day in days:
            folder = out / "reports" / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            for account in runs.known_accounts(session):
                run = runs.current_run(session, day, account)
                if run is None:
                    continue
                report = exports.run_report(session, run.id)
                for fmt in ("json", "csv", "xlsx"):
                    exports.write(report, folder / f"{account}.{fmt}")
                page = pages.get(f"/reports/{day.isoformat()}?account={account}")
                if page.status_code != 200:
                    raise RuntimeError(f"report page for {day} {account}: {page.status_code}")
                (folder / f"{account}.html").write_bytes(page.data)
            folders[day] = folder
    return folders


def converted_load(stack: Stack) -> str:
    """One load Stripe converted, as finance reads it: presented, settled, fee, carrier."""
    with transaction(stack.sessions) as session:
        payment = session.scalars(
            select(Payment)
            .where(Payment.currency == "jpy", Payment.exchange_rate.is_not(None))
            .order_by(Payment.id)
        ).first()
        if payment is None or payment.settlement_currency is None:
            return "no converted load"
        settled = payment.settlement_currency
        return (
            f"payment {payment.id}: {format_minor(payment.amount, payment.currency)} presented,"
            f" {format_minor(payment.settlement_amount or 0, settled)} settled at"
            f" {rate_text(payment.exchange_rate)} (fee"
            f" {format_minor(payment.settlement_fee or 0, settled)} incl. conversion),"
            f" carrier owed {format_minor(payment.carrier_settlement_amount or 0, settled)}"
        )


def judge(
    faults: list[Fault], found: dict[tuple[date, str], Counter[str]]
) -> tuple[list[tuple[Fault, bool]], Counter[tuple[date, str, str]]]:
    """Each fault's verdict, and whatever was found that no fault explains."""
    remaining: Counter[tuple[date, str, str]] = Counter()
    for (day, account), kinds in found.items():
        for kind, count in kinds.items():
            remaining[(day, account, kind)] += count
    verdicts = []
    for fault in faults:
        if fault.expected_kind is None:
            verdicts.append((fault, fault.planted and fault.absorbed()))
            continue
        key = (fault.day, fault.account, fault.expected_kind)
        ok = fault.planted and remaining[key] > 0
        if ok:
            remaining[key] -= 1
        verdicts.append((fault, ok))
    return verdicts, +remaining


def print_summary(
    days: list[date],
    found: dict[tuple[date, str], Counter[str]],
    folders: dict[date, Path],
    verdicts: list[tuple[Fault, bool]],
    unexplained: Counter[tuple[date, str, str]],
    converted: str,
) -> None:
    print()
    print(f"{'day':<12}{'accounts':>9}  {'result':<14}{'discrepancies by kind':<44}reports")
    for day in days:
        accounts = {a: k for (d, a), k in found.items() if d == day}
        kinds: Counter[str] = sum(accounts.values(), Counter())
        result = "clean" if not kinds else "discrepancies"
        listed = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())) or "—"
        print(f"{day.isoformat():<12}{len(accounts):>9}  {result:<14}{listed:<44}{folders[day]}")
    print()
    print(f"settles in usd; a jpy load converted: {converted}")
    print()
    print("planted faults:")
    for fault, ok in verdicts:
        mark = "found" if fault.expected_kind and ok else "absorbed" if ok else "MISSED"
        what = f"{fault.expected_kind} on {fault.day}" if fault.expected_kind else "no discrepancy"
        print(f"  [{mark:^8}] {fault.name:<38} {what:<34} {fault.detail}")
    if unexplained:
        print("found but not planted:")
        for (day, account, kind), count in sorted(unexplained.items()):
            print(f"  {day} {account} {kind} × {count}")
    else:
        print("nothing found that was not planted.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="midway demo")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--loads", type=int, default=200, help="loads paid per day")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    for name in FRESH:
        shutil.rmtree(out / name, ignore_errors=True)
    progress = Progress()
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=args.days + 3 - i) for i in range(args.days)]
    settings = load_settings()
    progress(f"starting the embedded stack in {out}")
    with running_stack(settings) as stack:
        with transaction(stack.sessions) as session:
            _, backend_key = create_key(session, role="backend", name="demo backend")
        market = Marketplace(
            stack, BackendApi(stack.web.url, backend_key), random.Random(args.seed)
        )
        market.open(days[0])
        progress(f"{len(market.shippers)} shippers, {len(market.carriers)} carriers onboarded")
        faults = plan_faults(days)
        run_week(market, days, args.loads, faults, progress)
        found = found_discrepancies(stack, days)
        folders = write_reports(stack, days, out)
        verdicts, unexplained = judge(faults, found)
        converted = converted_load(stack)
    progress("done")
    print_summary(days, found, folders, verdicts, unexplained, converted)
    return 0 if all(ok for _, ok in verdicts) and not unexplained else 1


if __name__ == "__main__":
    sys.exit(main())
