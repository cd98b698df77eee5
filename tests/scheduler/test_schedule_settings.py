"""The scheduler refuses bad settings by name; triggers and periods behave across DST."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config import load_settings
from scheduler import periods
from scheduler.config import schedule_config
from scheduler.errors import InvalidSchedulerSetting
from scheduler.triggers import crontab, fire_times, latest_fire

MIDWAY = str(Path(sys.executable).parent / "midway")


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"PAYOUT_THRESHOLDS": '{"usd": 10000, "xyz": 5}'}, "PAYOUT_THRESHOLDS"),
        ({"PAYOUT_BATCH_CRON": "0 3 * *"}, "PAYOUT_BATCH_CRON"),
        ({"PAYOUT_BATCH_CRON": "61 3 * * *"}, "PAYOUT_BATCH_CRON"),
        ({"RECON_TIMEZONE": "Mars/Olympus_Mons"}, "RECON_TIMEZONE"),
        ({"RECON_TIMEZONE": "../etc/passwd"}, "RECON_TIMEZONE"),
    ],
)
def test_a_bad_setting_is_refused_by_name(env: dict[str, str], setting: str) -> None:
    with pytest.raises(InvalidSchedulerSetting) as refused:
        schedule_config(load_settings(env))
    assert refused.value.setting == setting
    assert str(refused.value).startswith(f"{setting}: ")


def test_midway_scheduler_refuses_to_start_with_exit_code_2(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "MIDWAY_DATA_DIR": str(tmp_path),
    }
    for name, value in (
        ("PAYOUT_THRESHOLDS", '{"zzz": 100}'),
        ("PAYOUT_BATCH_CRON", "every night"),
        ("RECON_TIMEZONE", "Nowhere/City"),
        ("RECON_AT", "25:00"),
    ):
        done = subprocess.run(
            [MIDWAY, "scheduler"], env={**env, name: value}, capture_output=True, timeout=60
        )
        assert done.returncode == 2, (name, done.stderr)
        assert name in done.stderr.decode()


def test_crontab_weekdays_mean_what_crontab_means() -> None:
    # 1-5 is Monday to Friday in crontab (APScheduler alone would read Tuesday to Saturday).
    trigger = crontab("0 3 * * 1-5", UTC)
    fires = fire_times(trigger, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC))
    assert [f.date().isoweekday() for f in fires] == [1, 2, 3, 4, 5]
    sundays = fire_times(
        crontab("0 3 * * 0", UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 15, tzinfo=UTC),
    )
    assert [f.date() for f in sundays] == [date(2026, 3, 1), date(2026, 3, 8)]


def test_dst_fall_back_fires_the_repeated_hour_twice_then_moves_on() -> None:
    zone = schedule_config(load_settings({"RECON_TIMEZONE": "America/New_York"})).timezone
    trigger = crontab("30 1 * * *", zone)
    fires = fire_times(
        trigger, datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 4, tzinfo=UTC)
    )
    # 01:30 EDT and 01:30 EST on Nov 2 (same local day: one period), then one a day again.
    assert [f.isoformat() for f in fires] == [
        "2025-11-01T05:30:00+00:00",
        "2025-11-02T05:30:00+00:00",
        "2025-11-02T06:30:00+00:00",
        "2025-11-03T06:30:00+00:00",
    ]
    # APScheduler asks "next after the EST fire" with `now` just past it: never the same time.
    after = trigger.get_next_fire_time(fires[2], fires[2])
    assert after is not None and after.astimezone(UTC) == fires[3]


def test_recon_days_owed_follow_the_local_calendar_across_spring_forward() -> None:
    config = schedule_config(
        load_settings({"RECON_TIMEZONE": "America/New_York", "RECON_AT": "02:30"})
    )
    # 2025-03-09 02:30 does not exist in New York; the day before is still owed a run.
    fires = fire_times(
        config.recon_trigger(),
        datetime(2025, 3, 7, 12, tzinfo=UTC),
        datetime(2025, 3, 11, 12, tzinfo=UTC),
    )
    assert [periods.recon_day(f, config) for f in fires] == [
        date(2025, 3, 7),
        date(2025, 3, 8),
        date(2025, 3, 9),
        date(2025, 3, 10),
    ]
    # 06:00 UTC on the 10th is 02:00 EDT: the 10th's run (of the 9th) has not fired yet.
    owed = periods.due_recon_days(datetime(2025, 3, 10, 6, 0, tzinfo=UTC), config, 3)
    assert owed == [date(2025, 3, 7), date(2025, 3, 8)]
    owed = periods.due_recon_days(datetime(2025, 3, 10, 6, 31, tzinfo=UTC), config, 3)
    assert owed == [date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9)]


def test_latest_fire_is_the_one_the_scheduler_is_running() -> None:
    trigger = crontab("0 3 * * *", UTC)
    assert latest_fire(trigger, datetime(2026, 3, 10, 3, 0, 2, tzinfo=UTC), 3600) == datetime(
        2026, 3, 10, 3, tzinfo=UTC
    )
    assert latest_fire(trigger, datetime(2026, 3, 10, 5, tzinfo=UTC), 3600) is None
