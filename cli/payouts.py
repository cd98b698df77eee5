"""`midway payouts batch`: what the nightly batch pays carriers, or run it for a period now.

    midway payouts batch --dry-run [--format table|json]     who would be paid, nothing written
    midway payouts batch [--period 2026-03-10] [--format …]  create the period's batches once
                                                              (a no-op if the period is done)

The period defaults to the newest one whose PAYOUT_BATCH_CRON time has passed; a period whose
time has not come is refused (exit 2; a real run also records the refusal and alerts).
`--dry-run` answers what a real run would do now, including "done already".

Amounts in JSON are integers in the currency's minor unit; the table formats them for people.
Exit code 2 on a bad setting (PAYOUT_THRESHOLDS, RECON_TIMEZONE) or an unreachable database.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click

from config import Settings, SettingsError, load_settings
from models.db import database_url, make_engine, make_session_factory
from models.money import format_minor
from payments import payout_batching, scheduled_runs
from reconciliation import alerts
from scheduler import periods
from scheduler.config import ScheduleConfig, schedule_config
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
PAYOUTS = periods.PAYOUTS


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
    help="The batching period (default: the newest whose batching time has passed).",
)
def batch(dry_run: bool, fmt: str, period: datetime | None) -> None:
    """Batch carrier payouts above PAYOUT_THRESHOLDS (one batch per carrier, currency, period)."""
    try:
        settings = load_settings()
        config = schedule_config(settings)
    except (SettingsError, InvalidSchedulerSetting) as error:
        click.echo(f"midway payouts batch: {error}", err=True)
        sys.exit(2)
    now = datetime.now(UTC)
    day: date = period.date() if period else _latest_due_period(config, now)
    due_at = _batching_time(config, day)
    if due_at > now:
        _refuse_early_period(settings, day, due_at, dry_run)
    already_done = False
    if dry_run:
        # What a real run would do now: nothing for a period already done, else the same query.
        engine = make_engine(database_url(settings))
        try:
            with make_session_factory(engine)() as session:
                already_done = bool(
                    scheduled_runs.done_periods(session, [(PAYOUTS, day.isoformat())])
                )
                candidates = (
                    []
                    if already_done
                    else payout_batching.select_candidates(session, config.thresholds)
                )
        finally:
            engine.dispose()
        created = len(candidates)
    else:
        # The same once-per-period service as the scheduler's actor; batches go to the workers.
        from jobs.enqueue import command_broker, send_after_commit
        from jobs.messages import ADVANCE_BATCH

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
        with command_broker(settings) as broker:
            for batch_id in batch_ids:
                send_after_commit(broker, ADVANCE_BATCH, batch_id)
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
        verb = "would do nothing" if dry_run else "nothing to do"
        click.echo(f"payout batching for {day.isoformat()} is done already: {verb}")
        return
    verb = "would pay" if dry_run else "batched"
    click.echo(f"period {day.isoformat()}: {verb} {created} (carrier, currency) pairs")
    click.echo(render_table(rows, totals))


def _batching_time(config: ScheduleConfig, day: date) -> datetime:
    """When PAYOUT_BATCH_CRON batches `day` (its first fire time on that local day)."""
    start = datetime.combine(day, time(0), tzinfo=config.timezone)
    fire = config.payout_trigger().get_next_fire_time(None, start)
    assert fire is not None
    return fire


def _latest_due_period(config: ScheduleConfig, now: datetime) -> date:
    """The newest period whose batching time has passed."""
    due = periods.due_payout_periods(now, config, 7)
    return due[-1] if due else now.astimezone(config.timezone).date() - timedelta(days=1)


def _refuse_early_period(settings: Settings, day: date, due_at: datetime, dry_run: bool) -> None:
    """Exit 2: the period has not come to its batching time. A real run also records the
    refusal on the period and alerts, so finance sees who tried to pay early."""
    reason = (
        f"period {day.isoformat()} has not ended: it is batched at {due_at.isoformat()} "
        f"(PAYOUT_BATCH_CRON); a period can be batched only once its time has passed"
    )
    click.echo(f"midway payouts batch: {reason}", err=True)
    if not dry_run:
        engine = make_engine(database_url(settings))
        try:
            scheduled_runs.mark_failed(
                make_session_factory(engine), PAYOUTS, day.isoformat(), f"refused: {reason}"
            )
        finally:
            engine.dispose()
        alerts.payout_batching_failed(
            {"what": "period", "period": day.isoformat(), "reason": reason},
            settings.alert_webhook_url,
        )
    sys.exit(2)
