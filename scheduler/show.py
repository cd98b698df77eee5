"""`midway scheduler --show`: each job, its schedule in words, its time zone, and its next
three fire times in that zone (rather than APScheduler's internal trigger text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler import periods
from scheduler.cron import CATCH_UP, CATCH_UP_EVERY_MIN, CronTable

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_ABBREVIATIONS = {day[:3].lower(): index for index, day in enumerate(DAYS)}


@dataclass(frozen=True)
class ScheduleRow:
    job: str
    when: str
    timezone: str
    does: str
    next_fires: tuple[datetime, ...]
    at_start: bool = False


def _day(token: str) -> str | None:
    if token.isdigit() and 0 <= int(token) <= 7:
        return DAYS[int(token) % 7]
    index = _DAY_ABBREVIATIONS.get(token.lower())
    return DAYS[index] if index is not None else None


def _weekdays(field: str) -> str | None:
    """'1-5' -> 'Monday to Friday', '1,3' -> 'Monday and Wednesday', '0' -> 'Sunday'."""
    names: list[str] = []
    for part in field.split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _day(first), _day(last)
            if start is None or end is None:
                return None
            names.append(f"{start} to {end}")
        else:
            name = _day(part)
            if name is None:
                return None
            names.append(name)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def crontab_in_words(expression: str) -> str:
    """A 5-field crontab in words for the common shapes; the expression itself otherwise."""
    fallback = f"crontab '{expression}'"
    fields = expression.split()
    if len(fields) != 5:
        return fallback
    minute, hour, day, month, weekday = fields
    if not re.fullmatch(r"\d{1,2}", minute):
        return fallback
    if re.fullmatch(r"\d{1,2}", hour):
        at = f"at {int(hour):02d}:{int(minute):02d}"
    elif hour == "*":
        at = f"every hour at :{int(minute):02d}"
    else:
        return fallback
    if month != "*":
        return fallback
    if day == "*" and weekday == "*":
        return f"every day {at}"
    if day == "*":
        days = _weekdays(weekday)
        return f"{'every ' if ' to ' not in days else ''}{days} {at}" if days else fallback
    if weekday == "*" and re.fullmatch(r"\d{1,2}", day):
        return f"on day {int(day)} of every month {at}"
    return fallback


def next_fires(trigger: object, now: datetime, count: int = 3) -> tuple[datetime, ...]:
    fires: list[datetime] = []
    previous = None
    probe = now
    while len(fires) < count:
        fire = trigger.get_next_fire_time(previous, probe)  # type: ignore[attr-defined]
        if fire is None:
            break
        fires.append(fire)
        previous, probe = fire, fire + timedelta(seconds=1)
    return tuple(fires)


def schedule_rows(table: CronTable, count: int = 3) -> list[ScheduleRow]:
    config = table.config
    zone = config.timezone_name
    catch_up_days = max(config.catchup_days, 1)
    words = {
        periods.RECONCILIATION: (
            f"every day at {config.recon_at:%H:%M} (RECON_AT)",
            zone,
            "reconciles the day before for the platform and every connected account with"
            " activity that day",
        ),
        periods.PAYOUTS: (
            f"{crontab_in_words(config.payout_cron)} (PAYOUT_BATCH_CRON '{config.payout_cron}')",
            zone,
            "batches carrier payouts at or above PAYOUT_THRESHOLDS, one batch per carrier,"
            " currency and day",
        ),
        periods.SWEEP: (
            "every minute, on the minute",
            "UTC",
            f"re-enqueues work stuck for more than {config.stuck_after_s} s (STUCK_AFTER_S)"
            " and fetches Stripe events that webhooks missed",
        ),
        CATCH_UP: (
            f"at start, then every {CATCH_UP_EVERY_MIN} minutes",
            "UTC",
            f"re-sends every period of the last {catch_up_days} days (RECON_CATCHUP_DAYS)"
            " that is not done",
        ),
    }
    now = table.now()
    rows = []
    for entry in table.entries:
        when, timezone, does = words[entry.job]
        rows.append(
            ScheduleRow(
                entry.job,
                when,
                timezone,
                does,
                next_fires(entry.trigger, now, count),
                entry.run_at_start,
            )
        )
    return rows


def render(rows: list[ScheduleRow]) -> str:
    from zoneinfo import ZoneInfo

    lines = []
    for row in rows:
        zone = ZoneInfo(row.timezone)
        fires = ", ".join(
            f"{fire.astimezone(zone):%a %Y-%m-%d %H:%M %Z}" for fire in row.next_fires
        )
        lines += [
            f"{row.job}",
            f"  when:      {row.when}",
            f"  time zone: {row.timezone}",
            f"  does:      {row.does}",
            f"  next:      {'at start, then ' if row.at_start else ''}{fires or 'never'}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
