"""The cron table: every periodic job, its trigger and its misfire policy, in one place.

  job                     when (RECON_TIMEZONE)            sends
  nightly_reconciliation  daily at RECON_AT (02:00)        run_nightly_reconciliation(yesterday)
  payout_batching         PAYOUT_BATCH_CRON (0 3 * * *)    run_payout_batching(today)
  sweep                   every minute                     scheduled_sweep(minute)
  catch_up                at start, then every 5 minutes   catch_up(periods owed, oldest first)

Misfires and coalescing, deliberately:
- coalesce=True everywhere: runs missed while the process was stalled are one run, not a burst.
- nightly jobs: misfire_grace_time 6 h. A scheduler stalled or restarted within the night still
  fires; later than that the catch-up job owes the period anyway. (APScheduler's memory job
  store forgets misses across restarts: that is what catch-up on start is for.)
- sweep: misfire_grace_time 50 s: a late sweep is worthless once the next one is due.
- catch_up: looks back max(RECON_CATCHUP_DAYS, 1) days, so a period whose fire met Redis or the
  database down is re-sent within 5 minutes of their return even with catch-up turned off.
Every job only enqueues; the actors make each period happen once (jobs/scheduled.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs import messages
from scheduler import periods, sender
from scheduler.config import ScheduleConfig
from scheduler.triggers import latest_fire

CATCH_UP = "catch_up"
NIGHTLY_GRACE_S = 6 * 3600
SWEEP_GRACE_S = 50
CATCH_UP_EVERY_MIN = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Entry:
    job: str
    trigger: BaseTrigger
    misfire_grace_time: int
    coalesce: bool
    run_at_start: bool = False


class CronTable:
    """The jobs and what each fire sends. `now` is injectable: tests drive simulated periods
    by calling fire() with the scheduled time instead of waiting for it."""

    def __init__(
        self,
        config: ScheduleConfig,
        out: sender.Sender,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.out = out
        self.now = now
        self.entries = [
            Entry(periods.RECONCILIATION, config.recon_trigger(), NIGHTLY_GRACE_S, True),
            Entry(periods.PAYOUTS, config.payout_trigger(), NIGHTLY_GRACE_S, True),
            Entry(periods.SWEEP, CronTrigger(second=0, timezone=UTC), SWEEP_GRACE_S, True),
            Entry(
                CATCH_UP,
                IntervalTrigger(minutes=CATCH_UP_EVERY_MIN, timezone=UTC),
                60,
                True,
                run_at_start=True,
            ),
        ]

    def entry(self, job: str) -> Entry:
        return next(e for e in self.entries if e.job == job)

    def fire(self, job: str, at: datetime | None = None) -> bool:
        """Send what `job` sends for the fire time `at` (default: its latest fire time up to
        now — the one APScheduler is running). Returns whether the message was enqueued."""
        entry = self.entry(job)
        if at is None:
            now = self.now()
            at = latest_fire(entry.trigger, now, entry.misfire_grace_time) or now
        tz = self.config.timezone_name
        if job == periods.RECONCILIATION:
            day = periods.recon_day(at, self.config).isoformat()
            return self.out.send(messages.RUN_NIGHTLY_RECONCILIATION, day, tz)
        if job == periods.PAYOUTS:
            period = periods.payout_period(at, self.config).isoformat()
            return self.out.send(messages.RUN_PAYOUT_BATCHING, period)
        if job == periods.SWEEP:
            return self.out.send(messages.SCHEDULED_SWEEP, periods.sweep_minute(at))
        return self.catch_up(at)

    def owed(self, now: datetime) -> dict[str, list[str]]:
        """Every period that should be done by `now`, per job, oldest first."""
        days = max(self.config.catchup_days, 1)
        return {
            periods.RECONCILIATION: [
                d.isoformat() for d in periods.due_recon_days(now, self.config, days)
            ],
            periods.PAYOUTS: [
                p.isoformat() for p in periods.due_payout_periods(now, self.config, days)
            ],
        }

    def catch_up(self, now: datetime | None = None) -> bool:
        return self.out.send(
            messages.CATCH_UP, self.owed(now or self.now()), self.config.timezone_name
        )

    def describe(self) -> list[tuple[str, str, str]]:
        """(job, trigger, next fire) rows for `midway scheduler --show`."""
        now = self.now()
        rows = []
        for entry in self.entries:
            nxt = entry.trigger.get_next_fire_time(None, now)
            when = nxt.isoformat() if nxt else "-"
            rows.append(
                (
                    entry.job,
                    str(entry.trigger),
                    f"start, then {when}" if entry.run_at_start else when,
                )
            )
        return rows
