"""Once per period: the guard every scheduled actor runs its work under.

    with transaction(sessions) as session:
        run = claim(session, "payout_batching", "2026-03-08")
        if run is None:
            return                      # done already: another scheduler, a restart, a retry
        ...                             # the work, in this same transaction
        finish(session, run, detail)

`claim` takes a transaction-level advisory lock on (job, period), so a concurrent twin waits
for this transaction to end, then upserts the unique (job, period) row. The work and `done`
commit together: a crash rolls both back and the period stays open for the retry; nothing is
ever committed as `running` except by `mark_failed`, which records why a try failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models import ScheduledRun
from models.db import advisory_xact_lock, transaction
from models.scheduling import ScheduledRunStatus

log = logging.getLogger(__name__)

Work = Callable[[Session], dict[str, Any] | None]

lock = advisory_xact_lock  # payouts lock their batching with it too


def claim(session: Session, job: str, period: str) -> ScheduledRun | None:
    """The period's run row, claimed for this transaction; None if the period is done."""
    lock(session, f"scheduled:{job}:{period}")
    run_id = session.execute(
        insert(ScheduledRun)
        .values(job=job, period=period, status=ScheduledRunStatus.RUNNING, attempts=1)
        .on_conflict_do_update(
            index_elements=["job", "period"],
            set_={
                "status": ScheduledRunStatus.RUNNING,
                "attempts": ScheduledRun.attempts + 1,
                "started_at": func.now(),
                "error": None,
            },
            where=ScheduledRun.status != ScheduledRunStatus.DONE,
        )
        .returning(ScheduledRun.id)
    ).scalar_one_or_none()
    return None if run_id is None else session.get(ScheduledRun, run_id)


def finish(session: Session, run: ScheduledRun, detail: dict[str, Any] | None = None) -> None:
    run.status = ScheduledRunStatus.DONE
    run.detail = detail
    run.error = None
    run.finished_at = session.scalar(select(func.now()))
    session.flush()


def mark_failed(sessions: sessionmaker[Session], job: str, period: str, error: str) -> None:
    """Record a failed try (its own transaction: the try's was rolled back). Never undoes done."""
    with transaction(sessions) as session:
        session.execute(
            insert(ScheduledRun)
            .values(
                job=job,
                period=period,
                status=ScheduledRunStatus.FAILED,
                attempts=1,
                error=error[:4000],
            )
            .on_conflict_do_update(
                index_elements=["job", "period"],
                set_={
                    "status": ScheduledRunStatus.FAILED,
                    "error": error[:4000],
                    "finished_at": func.now(),
                },
                where=ScheduledRun.status != ScheduledRunStatus.DONE,
            )
        )


def done_periods(session: Session, wanted: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (job, period) pairs are done."""
    if not wanted:
        return set()
    rows = session.execute(
        select(ScheduledRun.job, ScheduledRun.period).where(
            tuple_(ScheduledRun.job, ScheduledRun.period).in_(wanted),
            ScheduledRun.status == ScheduledRunStatus.DONE,
        )
    )
    return {(job, period) for job, period in rows}


def prune(session: Session, job: str, keep_s: int) -> int:
    """Forget a frequent job's runs older than keep_s (the sweeper writes one a minute)."""
    result = session.execute(
        delete(ScheduledRun).where(
            ScheduledRun.job == job,
            ScheduledRun.started_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, keep_s),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def run_once(
    sessions: sessionmaker[Session], job: str, period: str, work: Work
) -> dict[str, Any] | None:
    """Do `work` for the period unless it is done; its effect and `done` commit together.

    Returns the run's detail, or None when the period was already done. A failed try is
    recorded on the row (`failed`, with the error) and the error raised for the caller's retry.
    """
    try:
        with transaction(sessions) as session:
            run = claim(session, job, period)
            if run is None:
                log.info("%s %s is done already: nothing to do", job, period)
                return None
            detail = work(session) or {}
            finish(session, run, detail)
            return detail
    except Exception as error:
        try:
            mark_failed(sessions, job, period, f"{type(error).__name__}: {error}")
        except Exception:  # noqa: BLE001 - the database may be the thing that is down
            log.warning("could not record the failure of %s %s", job, period)
        raise
