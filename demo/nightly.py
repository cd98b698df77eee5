"""One night of the scheduler, on the simulated clock: its real cron table fires at the times
it would (the sweeper, RECON_AT 02:00, PAYOUT_BATCH_CRON 03:00) and the workers do the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from demo.marketplace import Marketplace, at
from jobs.broker import current_broker
from scheduler import periods
from scheduler.config import schedule_config
from scheduler.cron import CronTable
from scheduler.sender import Sender


def cron_table(market: Marketplace) -> CronTable:
    settings = market.stack.settings
    sender = Sender(current_broker())
    return CronTable(schedule_config(settings), sender, now=lambda: datetime.now(UTC))


def run_night(
    market: Marketplace,
    day: date,
    *,
    reconcile: bool = True,
    after_batching: Callable[[], None] | None = None,
) -> None:
    """The night after `day`: sweep, reconcile `day`, then batch payouts for the next day."""
    table, stack = cron_table(market), market.stack
    tomorrow = day + timedelta(days=1)

    def fire(job: str, unix: int) -> None:
        market.set_clock(unix)
        stack.drain()  # what the clock released (available funds, arrived payouts, webhooks)
        table.fire(job, at=datetime.fromtimestamp(unix, UTC))
        stack.drain()

    fire(periods.SWEEP, at(tomorrow, 1.99))
    if reconcile:
        fire(periods.RECONCILIATION, at(tomorrow, 2))
    fire(periods.PAYOUTS, at(tomorrow, 3))
    if after_batching is not None:
        after_batching()
        stack.drain()
