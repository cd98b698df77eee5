"""Read side of the finance reports: the runs a person should look at, open work by age, and
the last days as series. Plain queries over runs and discrepancies; integers only.

"The" run of a day and account is the latest one not superseded: normally the current
finished run; a failed or still-running attempt newer than it shows as such (the last good
run stays readable on the day's page).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from models import Discrepancy, ReconciliationRun
from models.reconciliation import (
    CURRENT_RUN_STATUSES,
    UNRESOLVED_DISCREPANCY_STATUSES,
    DiscrepancyStatus,
    RunStatus,
)
from reconciliation.runs import current_run as current_run  # the pages read it from here

FINISHED = CURRENT_RUN_STATUSES
UNRESOLVED = UNRESOLVED_DISCREPANCY_STATUSES
# Age buckets of unresolved discrepancies, in days since the day they belong to.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1 days", 0, 1),
    ("2-7 days", 2, 7),
    ("8-30 days", 8, 30),
    (">30 days", 31, None),
)


def latest_runs(
    session: Session,
    *,
    account: str | None = None,
    status: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[ReconciliationRun]:
    """One run per (day, account), the latest not superseded; newest day first."""
    ranked = (
        select(
            ReconciliationRun.id,
            func.row_number()
            .over(
                partition_by=(ReconciliationRun.day, ReconciliationRun.account),
                order_by=ReconciliationRun.id.desc(),
            )
            .label("rank"),
        )
        .where(ReconciliationRun.superseded_by_id.is_(None))
        .subquery()
    )
    query = (
        select(ReconciliationRun)
        .join(ranked, and_(ranked.c.id == ReconciliationRun.id, ranked.c.rank == 1))
        .order_by(
            ReconciliationRun.day.desc(),
            (ReconciliationRun.account != "platform"),
            ReconciliationRun.account,
        )
    )
    if account is not None:
        query = query.where(ReconciliationRun.account == account)
    if status is not None:
        query = query.where(ReconciliationRun.status == status)
    if since is not None:
        query = query.where(ReconciliationRun.day >= since)
    if until is not None:
        query = query.where(ReconciliationRun.day <= until)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.scalars(query))


def latest_attempt(session: Session, day: dt.date, account: str) -> ReconciliationRun | None:
    """The newest run of the day in any status (a failed or running re-run included)."""
    return session.scalars(
        select(ReconciliationRun)
        .where(ReconciliationRun.day == day, ReconciliationRun.account == account)
        .order_by(ReconciliationRun.id.desc())
    ).first()


def accounts_of_day(session: Session, day: dt.date) -> list[str]:
    rows = session.scalars(
        select(ReconciliationRun.account).where(ReconciliationRun.day == day).distinct()
    )
    return sorted(rows, key=lambda a: (a != "platform", a))


def all_accounts(session: Session) -> list[str]:
    rows = session.scalars(select(ReconciliationRun.account).distinct())
    return sorted(rows, key=lambda a: (a != "platform", a))


def net_differences(run: ReconciliationRun) -> dict[str, int]:
    """difference_net per currency of a run's totals (only the non-zero ones)."""
    out: dict[str, int] = {}
    for row in run.totals or []:
        value = int(row.get("difference_net", 0))
        if value:
            out[str(row["currency"])] = value
    return out


@dataclass
class AgeRow:
    label: str
    open: int = 0
    acknowledged: int = 0

    @property
    def total(self) -> int:
        return self.open + self.acknowledged


def bucket_of(age_days: int) -> int:
    for index, (_, low, high) in enumerate(AGE_BUCKETS):
        if age_days >= low and (high is None or age_days <= high):
            return index
    return 0  # a day "in the future" of `today` (another time zone): the youngest bucket


def unresolved_by_age(session: Session, today: dt.date) -> list[AgeRow]:
    """Unresolved discrepancies of every current run, by age of their day."""
    rows = session.execute(
        select(ReconciliationRun.day, Discrepancy.status, func.count())
        .join(ReconciliationRun, ReconciliationRun.id == Discrepancy.run_id)
        .where(
            ReconciliationRun.superseded_by_id.is_(None),
            ReconciliationRun.status.in_(FINISHED),
            Discrepancy.status.in_(UNRESOLVED),
        )
        .group_by(ReconciliationRun.day, Discrepancy.status)
    )
    table = [AgeRow(label) for label, _, _ in AGE_BUCKETS]
    for day, status, count in rows:
        row = table[bucket_of((today - day).days)]
        if status == DiscrepancyStatus.OPEN:
            row.open += int(count)
        else:
            row.acknowledged += int(count)
    return table


@dataclass
class DayPoint:
    day: dt.date
    runs: int = 0
    discrepancies: int = 0
    failed: int = 0
    net_difference: dict[str, int] = field(default_factory=dict)


def daily_series(session: Session, until: dt.date, days: int = 30) -> list[DayPoint]:
    """The last `days` days up to `until`, oldest first: discrepancy count and net
    difference per currency summed over the accounts' runs of each day."""
    since = until - dt.timedelta(days=days - 1)
    points = {
        since + dt.timedelta(days=i): DayPoint(since + dt.timedelta(days=i)) for i in range(days)
    }
    for run in latest_runs(session, since=since, until=until):
        point = points[run.day]
        point.runs += 1
        if run.status == RunStatus.FAILED:
            point.failed += 1
            continue
        point.discrepancies += run.discrepancy_count
        sums: defaultdict[str, int] = defaultdict(int, point.net_difference)
        for currency, value in net_differences(run).items():
            sums[currency] += value
        point.net_difference = dict(sums)
    return [points[day] for day in sorted(points)]
