"""`midway scheduler`: the cron process (one Procfile line). Exit code 2 on a bad setting."""

from __future__ import annotations

import logging
import signal
import sys

import click

from config import SettingsError, load_settings
from scheduler.config import schedule_config
from scheduler.cron import CronTable
from scheduler.errors import InvalidSchedulerSetting
from scheduler.sender import Sender


@click.command("scheduler")
@click.option("--show", is_flag=True, help="Print the cron table and next fire times, then exit.")
def scheduler_command(show: bool) -> None:
    """Run the scheduler: nightly reconciliation, payout batching, the sweeper."""
    # Until the scheduler runs (and installs its own handlers), SIGTERM stops it as Ctrl-C does,
    # and Ctrl-C works even when started with SIGINT ignored (a non-interactive shell's `&`).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.default_int_handler)
    try:
        _scheduler(show)
    except KeyboardInterrupt:
        click.echo("midway scheduler: stopped before it started", err=True)


def _scheduler(show: bool) -> None:
    try:
        settings = load_settings()
        config = schedule_config(settings)
        if settings.redis_url is None and not show:
            raise InvalidSchedulerSetting(
                "REDIS_URL",
                "not set: the scheduler enqueues for worker processes, which an in-process"
                " fakeredis cannot reach",
            )
    except (SettingsError, InvalidSchedulerSetting) as error:
        click.echo(f"midway scheduler: refusing to start: {error}", err=True)
        sys.exit(2)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    table = CronTable(config, Sender.to_redis(settings.redis_url or "redis://unused"))
    if show:
        from scheduler.show import render, schedule_rows

        click.echo(render(schedule_rows(table)), nl=False)
        return
    from scheduler.process import run

    run(table)
