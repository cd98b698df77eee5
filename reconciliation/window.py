"""The day a reconciliation run covers: [local midnight, next local midnight) in an IANA zone.

A local day is 24 hours except on DST changes (23 h in spring, 25 h in autumn), so the end is
computed as the next calendar day's midnight, never as start + 86400.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconciliation.errors import FutureDay, InvalidTimeZone


@dataclass(frozen=True, slots=True)
class DayWindow:
    """One local day as unix seconds: `start` inclusive, `end` exclusive."""

    start: int
    end: int
    date: dt.date | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} is not after start {self.start}")

    @property
    def seconds(self) -> int:
        return self.end - self.start


def zone(tz_name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or InvalidTimeZone with the name in the message."""
    if not isinstance(tz_name, str) or not tz_name or tz_name != tz_name.strip():
        raise InvalidTimeZone(f"time zone {tz_name!r} is not an IANA name like 'Europe/Paris'")
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone(
            f"unknown time zone {tz_name!r}: expected an IANA name like 'America/New_York'"
        ) from None


def day_window(date: dt.date | str, tz_name: str = "UTC") -> tuple[int, int]:
    """(start_unix, end_unix) of `date` in `tz_name`: [local midnight, next local midnight)."""
    window = day(date, tz_name)
    return window.start, window.end


def day(date: dt.date | str, tz_name: str = "UTC") -> DayWindow:
    """The DayWindow of `date` (a date or "YYYY-MM-DD") in the IANA zone `tz_name`."""
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise ValueError(f"date {date!r} is not YYYY-MM-DD") from None
    if isinstance(date, dt.datetime):
        raise TypeError("day_window takes a date, not a datetime")
    tz = zone(tz_name)
    start = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return DayWindow(int(start.timestamp()), int(end.timestamp()), date, tz_name)


def day_to_reconcile(date: dt.date | str, tz: str, now: int | None = None) -> DayWindow:
    """The window of `date` in `tz`; FutureDay if it has not begun yet."""
    window = day(date, tz)
    now = int(time.time()) if now is None else now
    if window.start > now:
        raise FutureDay(
            f"{window.date} has not begun yet in {tz}: a day can be reconciled from its "
            f"first second on (today is partial, earlier days are complete)"
        )
    return window
