"""`midway scheduler`: an APScheduler BlockingScheduler running the cron table.

One process, in the foreground. SIGTERM or SIGINT (Ctrl-C) stops it cleanly: no new fires, a
send in flight finishes, and the process exits 0. Its jobs only enqueue; the executor is a small
thread pool because a send can block for a while when Redis is down.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler.cron import CronTable, utc_now
from scheduler.show import schedule_rows

log = logging.getLogger(__name__)


def build(table: CronTable) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=table.config.timezone,
        executors={"default": ThreadPoolExecutor(max_workers=4)},
    )
    for entry in table.entries:
        scheduler.add_job(
            table.fire,
            entry.trigger,
            args=[entry.job],
            id=entry.job,
            name=entry.job,
            misfire_grace_time=entry.misfire_grace_time,
            coalesce=entry.coalesce,
            max_instances=1,
            replace_existing=True,
            **({"next_run_time": utc_now()} if entry.run_at_start else {}),
        )
    return scheduler


def run(table: CronTable) -> None:
    """Block until a signal stops the scheduler."""
    scheduler = build(table)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("scheduler stopping (%s)", signal.Signals(signum).name)
        if scheduler.running:
            scheduler.shutdown(wait=True)  # sends in flight finish; nothing new fires

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for row in schedule_rows(table, count=1):
        log.info(
            "scheduled %s: %s, %s, next at %s",
            row.job,
            row.when,
            row.timezone,
            "start" if row.at_start else row.next_fires[0].isoformat(),
        )
    scheduler.start()
    log.info("scheduler stopped")
