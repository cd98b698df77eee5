"""Which period a fire time stands for, and which periods should be done by now.

Pure functions of a clock reading and the schedule: the cron table and its tests share them.
- nightly reconciliation: the local day before the fire time, in RECON_TIMEZONE;
- payout batching: the local day of the fire time (PayoutBatch.period is a date);
- sweep: the UTC minute of the fire time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scheduler.config import ScheduleConfig
from scheduler.triggers import fire_times

RECONCILIATION = "nightly_reconciliation"
PAYOUTS = "payout_batching"
SWEEP = "sweep"


def recon_day(fire_time: datetime, config: ScheduleConfig) -> date:
    return fire_time.astimezone(config.timezone).date() - timedelta(days=1)


def payout_period(fire_time: datetime, config: ScheduleConfig) -> date:
    return fire_time.astimezone(config.timezone).date()


def sweep_minute(fire_time: datetime) -> str:
    return fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def due_recon_days(now: datetime, config: ScheduleConfig, days: int) -> list[date]:
    """The last `days` local days whose nightly time has passed, oldest first.

    Counted on the calendar, not from trigger fire times, so a day whose RECON_AT does not
    exist (DST spring-forward) is still owed a run.
    """
    local = now.astimezone(config.timezone)
    newest = local.date() - timedelta(days=1)
    if local.time() < config.recon_at:
        newest -= timedelta(days=1)  # today's run of yesterday has not fired yet
    oldest = local.date() - timedelta(days=days)
    return [oldest + timedelta(days=n) for n in range((newest - oldest).days + 1)]


def due_payout_periods(now: datetime, config: ScheduleConfig, days: int) -> list[date]:
    """The periods of every PAYOUT_BATCH_CRON fire time in the last `days` days, oldest first."""
    times = fire_times(config.payout_trigger(), now - timedelta(days=days), now)
    return sorted({payout_period(t, config) for t in times})
