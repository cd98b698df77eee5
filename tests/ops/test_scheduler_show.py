"""`midway scheduler --show`: each job, its schedule in words, its time zone and its next three
fire times, not APScheduler's trigger text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from cli.main import cli
from config import load_settings
from scheduler.config import schedule_config
from scheduler.cron import CronTable
from scheduler.sender import Sender
from scheduler.show import crontab_in_words, render, schedule_rows


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 3 * * *", "every day at 03:00"),
        ("30 4 * * 1", "every Monday at 04:30"),
        ("30 4 * * 0", "every Sunday at 04:30"),
        ("0 6 * * 1-5", "Monday to Friday at 06:00"),
        ("0 6 * * mon,thu", "every Monday and Thursday at 06:00"),
        ("15 * * * *", "every day every hour at :15"),
        ("0 2 1 * *", "on day 1 of every month at 02:00"),
        ("*/5 * * * *", "crontab '*/5 * * * *'"),
    ],
)
def test_crontab_in_words(expression: str, words: str) -> None:
    assert crontab_in_words(expression) == words


def test_rows_name_each_job_its_zone_and_next_three_fires() -> None:
    settings = load_settings(
        {"RECON_TIMEZONE": "America/Chicago", "PAYOUT_BATCH_CRON": "0 3 * * 1"}
    )
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday, 07:00 in Chicago
    table = CronTable(schedule_config(settings), Sender.to_redis("redis://unused"), lambda: now)
    rows = {row.job: row for row in schedule_rows(table)}
    assert set(rows) == {"nightly_reconciliation", "payout_batching", "sweep", "catch_up"}
    recon, payouts = rows["nightly_reconciliation"], rows["payout_batching"]
    assert recon.when == "every day at 02:00 (RECON_AT)"
    assert recon.timezone == payouts.timezone == "America/Chicago"
    assert [f.astimezone(UTC).isoformat() for f in recon.next_fires] == [
        "2026-06-02T07:00:00+00:00",
        "2026-06-03T07:00:00+00:00",
        "2026-06-04T07:00:00+00:00",
    ]
    assert payouts.when == "every Monday at 03:00 (PAYOUT_BATCH_CRON '0 3 * * 1')"
    assert [f.astimezone(UTC).date().isoformat() for f in payouts.next_fires] == [
        "2026-06-08",
        "2026-06-15",
        "2026-06-22",
    ]
    assert len(rows["sweep"].next_fires) == 3 and rows["catch_up"].at_start
    text = render(list(rows.values()))
    assert "next:      Tue 2026-06-02 02:00 CDT, Wed 2026-06-03 02:00 CDT" in text
    assert "next:      at start, then " in text


def test_the_command_prints_words_not_trigger_text() -> None:
    result = CliRunner().invoke(
        cli, ["scheduler", "--show"], env={"RECON_TIMEZONE": "Europe/Paris", "REDIS_URL": None}
    )
    assert result.exit_code == 0, result.output
    assert "time zone: Europe/Paris" in result.output
    assert "every day at 03:00" in result.output
    assert "cron[" not in result.output and "interval[" not in result.output
    assert result.output.count("  next:") == 4
