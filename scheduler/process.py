"""`midway scheduler`: an APScheduler scheduler running the cron table.

One process, in the foreground. SIGTERM or SIGINT (Ctrl-C) stops it cleanly: no new fires, a
send in flight finishes, and the process exits 0. Its jobs only enqueue; the executor is a small
thread pool because a send can block for a while when Redis is down.

The scheduler runs in a thread of its own and the main thread waits for a signal, then shuts it
down. Shutting down inside the signal handler could deadlock: the handler runs on whatever the
main thread was doing, which may be APScheduler handing a job to its executor under the lock a
finishing job needs, while the shutdown waits for that job.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.cron import CronTable, utc_now
from scheduler.show import schedule_rows

log = logging.getLogger(__name__)


def build(table: CronTable) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
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
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("scheduler stopping (%s)", signal.Signals(signum).name)
        stopping.set()

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
    while not stopping.wait(0.5):
        pass
    scheduler.shutdown(wait=True)  # sends in flight finish; nothing new fires
    log.info("scheduler stopped")
