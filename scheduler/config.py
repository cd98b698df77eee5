"""The scheduler's view of the settings, checked before anything is scheduled.

A bad time zone, a malformed cron expression or a threshold for a currency we do not settle
would otherwise surface at 3 a.m. as a job that never fires, so the scheduler refuses to start
and names the setting instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config import Settings
from models.errors import UnknownCurrency
from models.money import check_currency
from scheduler.errors import InvalidSchedulerSetting
from scheduler.triggers import MonotonicCron, crontab


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: ZoneInfo
    recon_at: time
    payout_cron: str
    catchup_days: int
    thresholds: dict[str, int]
    stuck_after_s: int

    @property
    def timezone_name(self) -> str:
        return self.timezone.key

    def payout_trigger(self) -> MonotonicCron:
        return crontab(self.payout_cron, self.timezone)

    def recon_trigger(self) -> MonotonicCron:
        return MonotonicCron(
            hour=self.recon_at.hour, minute=self.recon_at.minute, timezone=self.timezone
        )


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedulerSetting(
            "RECON_TIMEZONE", f"{name!r} is not an IANA time zone (e.g. UTC, America/Chicago)"
        ) from None


def schedule_config(settings: Settings) -> ScheduleConfig:
    """Check the settings the cron table uses; raise InvalidSchedulerSetting naming the first
    bad one."""
    zone = _timezone(settings.recon_timezone)
    try:
        crontab(settings.payout_batch_cron, zone)
    except ValueError as error:
        raise InvalidSchedulerSetting(
            "PAYOUT_BATCH_CRON",
            f"{settings.payout_batch_cron!r} is not a 5-field crontab"
            f" (minute hour day month weekday): {error}",
        ) from None
    for currency in settings.payout_thresholds:
        try:
            check_currency(currency)
        except UnknownCurrency as error:
            raise InvalidSchedulerSetting("PAYOUT_THRESHOLDS", str(error)) from None
    hour, minute = (int(part) for part in settings.recon_at.split(":"))
    return ScheduleConfig(
        timezone=zone,
        recon_at=time(hour, minute),
        payout_cron=settings.payout_batch_cron,
        catchup_days=settings.recon_catchup_days,
        thresholds=dict(settings.payout_thresholds),
        stuck_after_s=settings.stuck_after_s,
    )
