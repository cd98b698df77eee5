"""Triggers and fire-time arithmetic for the cron table.

APScheduler 3.11's CronTrigger, asked for the fire time after one in the repeated hour of a
DST fall-back (01:30 EST after 01:30 EDT in America/New_York), answers that same time again
until an hour has passed, so the scheduler would fire it in a loop. MonotonicCron moves the
search forward until the answer is strictly later. (Twice on that day is fine: both fires name
the same period and the second is a no-op.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

_PROBE_STEP = timedelta(minutes=10)
_PROBE_LIMIT = 24  # four hours of probing covers any DST shift


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare by wall time, ignoring fold: 01:30 EDT and
    # 01:30 EST would be "equal". Compare and step in UTC only.
    return moment.astimezone(UTC)


class MonotonicCron(CronTrigger):
    def get_next_fire_time(self, previous_fire_time: Any, now: Any) -> Any:
        fire = super().get_next_fire_time(previous_fire_time, now)
        probe = _utc(now)
        for _ in range(_PROBE_LIMIT):
            if fire is None or previous_fire_time is None:
                break
            if _utc(fire) > _utc(previous_fire_time):
                break
            probe += _PROBE_STEP
            fire = super().get_next_fire_time(previous_fire_time, probe)
        return fire


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")


def crontab(expr: str, timezone: Any) -> MonotonicCron:
    """A trigger from a 5-field crontab, with crontab's weekday numbers (0 or 7 = Sunday).

    APScheduler numbers weekdays from Monday = 0, so "0 3 * * 1" would otherwise fire on
    Tuesdays; numbers in the weekday field become names before APScheduler reads them.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    fields[4] = _DAY_NUMBER.sub(lambda m: _DAY_NAMES[int(m.group(1))], fields[4])
    return MonotonicCron.from_crontab(" ".join(fields), timezone=timezone)


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime) -> list[datetime]:
    """Every fire time in (after, until], in order, in UTC (a repeated answer is skipped)."""
    times: list[datetime] = []
    previous: datetime | None = None
    until = _utc(until)
    probe = _utc(after) + timedelta(microseconds=1)
    fire = trigger.get_next_fire_time(None, probe)
    while fire is not None and _utc(fire) <= until:
        if previous is None or _utc(fire) > previous:
            previous = _utc(fire)
            times.append(previous)
            probe = previous + timedelta(microseconds=1)
        else:
            probe += _PROBE_STEP
        fire = trigger.get_next_fire_time(previous, probe)
    return times


def latest_fire(trigger: BaseTrigger, now: datetime, within_s: int) -> datetime | None:
    """The last fire time at or before now, looking back within_s seconds."""
    times = fire_times(trigger, now - timedelta(seconds=within_s + 1), now)
    return times[-1] if times else None
