"""`midway payouts batch`: what the nightly batch pays carriers, or run it for a period now.

    midway payouts batch --dry-run [--format table|json]     who would be paid, nothing written
    midway payouts batch [--period 2026-03-10] [--format …]  create the period's batches once
                                                              (a no-op if the period is done)

Amounts in JSON are integers in the currency's minor unit; the table formats them for people.
Exit code 2 on a bad setting (PAYOUT_THRESHOLDS, RECON_TIMEZONE) or an unreachable database.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Any

import click

from config import SettingsError, load_settings
from models.db import database_url, make_engine, make_session_factory
from models.money import format_minor
from payments import payout_batching
from scheduler.config import schedule_config
from scheduler.errors import InvalidSchedulerSetting

COLUMNS = (
    ("carrier_id", "carrier"),
    ("carrier_name", "name"),
    ("currency", "currency"),
    ("method", "method"),
    ("owed", "owed"),
    ("receivable_offset", "receivable offset"),
    ("stranded", "on connected balance"),
    ("transfer", "transfer"),
    ("payout", "payout"),
)
MONEY = {"owed", "receivable_offset", "stranded", "transfer", "payout"}


def _row(candidate: payout_batching.Candidate) -> dict[str, Any]:
    row = candidate.as_dict()
    row["owed"] = candidate.payable - candidate.receivable
    return row


def render_table(rows: list[dict[str, Any]], totals: dict[str, dict[str, int]]) -> str:
    if not rows:
        return "no carrier is at or above the payout threshold"
    cells = [[label for _, label in COLUMNS]]
    for row in rows:
        cells.append(
            [
                format_minor(row[key], row["currency"]) if key in MONEY else str(row[key])
                for key, _ in COLUMNS
            ]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for currency, total in sorted(totals.items()):
        lines.append(
            f"total {currency}: {total['carriers']} carriers, transfer "
            f"{format_minor(total['transfer'], currency)}, payout "
            f"{format_minor(total['payout'], currency)}"
        )
    return "\n".join(lines)


@click.group()
def payouts() -> None:
    """Carrier payouts."""


@payouts.command("batch")
@click.option("--dry-run", is_flag=True, help="Show who would be paid; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--period",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The batching period (default: today in RECON_TIMEZONE).",
)
def batch(dry_run: bool, fmt: str, period: datetime | None) -> None:
    """Batch carrier payouts above PAYOUT_THRESHOLDS (one batch per carrier, currency, period)."""
    try:
        settings = load_settings()
        config = schedule_config(settings)
    except (SettingsError, InvalidSchedulerSetting) as error:
        click.echo(f"midway payouts batch: {error}", err=True)
        sys.exit(2)
    day: date = period.date() if period else datetime.now(UTC).astimezone(config.timezone).date()
    already_done = False
    if dry_run:
        engine = make_engine(database_url(settings))
        try:
            with make_session_factory(engine)() as session:
                candidates = payout_batching.select_candidates(session, config.thresholds)
        finally:
            engine.dispose()
        created = len(candidates)
    else:
        # The same once-per-period service as the scheduler's actor; batches go to the workers.
        from jobs.enqueue import send_after_commit
        from jobs.payouts import advance_batch

        candidates = []
        engine = make_engine(database_url(settings))
        try:
            detail, batch_ids = payout_batching.batch_period(
                make_session_factory(engine),
                day.isoformat(),
                dict(config.thresholds),
                collect=candidates,
            )
        finally:
            engine.dispose()
        already_done = detail is None
        for batch_id in batch_ids:
            send_after_commit(advance_batch, batch_id)
        created = len(batch_ids)
    rows = [_row(c) for c in candidates]
    totals = payout_batching.totals(candidates)
    if fmt == "json":
        report = {
            "period": day.isoformat(),
            "dry_run": dry_run,
            "already_done": already_done,
            "batches": created,
            "carriers": rows,
            "totals": totals,
        }
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    if already_done:
        click.echo(f"payout batching for {day.isoformat()} is done already: nothing to do")
        return
    verb = "would pay" if dry_run else "batched"
    click.echo(f"period {day.isoformat()}: {verb} {created} (carrier, currency) pairs")
    click.echo(render_table(rows, totals))
