"""Persisting runs and their discrepancies; superseding and carrying finance's work forward.

A run row is created `running` with the number of partitions it will receive (1, or one
per currency for a large day run across workers). Each partition's result is added under a
lock on the run row; the one that completes the set finishes the run, in one transaction:
- under an advisory lock on (day, account), every earlier run of that day and account that
  is not yet superseded (finished or failed) gets `superseded_by_id` = this run and
  `superseded_at`; history is kept, nothing is deleted;
- each new discrepancy whose fingerprint equals one of the superseded run's takes over its
  `status` and `resolution_note` (and records `carried_from_id`);
- the run becomes `clean` (zero discrepancies: a clean day is recorded too), `resolved`
  (every discrepancy carried over as resolved by finance) or `discrepancies`; finance's work
  on a current run moves it between `discrepancies` and `resolved` (`refresh_status`).
A run that fails is marked `failed` with its error and supersedes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from models import Carrier, Discrepancy, ReconciliationRun, StripeBalanceTransaction
from models.db import advisory_xact_lock
from models.reconciliation import CURRENT_RUN_STATUSES, DiscrepancyStatus, RunStatus
from reconciliation.errors import RunNotFound, UnknownAccount
from reconciliation.result import Counts, CurrencyTotals, ReconciliationResult
from reconciliation.result import Discrepancy as Finding
from reconciliation.window import DayWindow

PLATFORM = "platform"


def is_known_account(session: Session, account: str) -> bool:
    """The platform, a carrier's connected account, or an account whose Stripe rows we hold
    (one Stripe listed with activity although no carrier of ours has it)."""
    if account == PLATFORM:
        return True
    if session.scalar(select(Carrier.id).where(Carrier.stripe_account_id == account)):
        return True
    return (
        session.scalar(
            select(StripeBalanceTransaction.id)
            .where(StripeBalanceTransaction.account == account)
            .limit(1)
        )
        is not None
    )


def check_account(session: Session, account: str) -> None:
    """Raise UnknownAccount unless `is_known_account`."""
    if not is_known_account(session, account):
        raise UnknownAccount(
            f"unknown account {account!r}: expected 'platform' or the acct_… id of a carrier"
        )


def known_accounts(session: Session) -> list[str]:
    """The platform and every carrier's connected account."""
    carriers = session.scalars(
        select(Carrier.stripe_account_id)
        .where(Carrier.stripe_account_id.is_not(None))
        .order_by(Carrier.id)
    )
    return [PLATFORM, *(str(a) for a in carriers)]


def _utc(unix: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, dt.UTC)


def start_run(
    session: Session,
    window: DayWindow,
    account: str,
    *,
    source: str,
    source_detail: str | None = None,
    partitions: int = 1,
    started_at: dt.datetime | None = None,
) -> ReconciliationRun:
    """A new `running` run of the window's day for `account` (the caller commits);
    `started_at` is when the work began, if before this row is written."""
    assert window.date is not None, "a run covers a calendar day"
    run = ReconciliationRun(
        day=window.date,
        timezone=window.timezone,
        account=account,
        source=source,
        source_detail=source_detail,
        window_start=_utc(window.start),
        window_end=_utc(window.end),
        status=RunStatus.RUNNING,
        partitions=partitions,
        partitions_done=0,
        totals=[],
    )
    if started_at is not None:
        run.started_at = started_at
    session.add(run)
    session.flush()
    return run


def add_result(session: Session, run_id: int, result: ReconciliationResult) -> bool:
    """Store one partition's result; finish the run if it was the last. Returns True when
    the run is finished by this call."""
    run = session.get(ReconciliationRun, run_id, with_for_update=True)
    if run is None:
        raise RunNotFound(f"no reconciliation run {run_id}")
    if run.status != RunStatus.RUNNING:
        raise RuntimeError(f"run {run_id} is {run.status}; it takes no more results")
    insert_discrepancies(session, run_id, result.discrepancies)
    run.stripe_rows += result.counts.stripe_rows
    run.ledger_rows += result.counts.ledger_rows
    run.matched += result.counts.matched
    run.discrepancy_count += result.counts.discrepancies
    run.totals = merge_totals(run.totals, result.totals)
    run.partitions_done += 1
    if run.partitions_done < run.partitions:
        return False
    finish_run(session, run)
    return True


def insert_discrepancies(session: Session, run_id: int, findings: Iterable[Finding]) -> int:
    rows = [_row(run_id, finding) for finding in findings]
    if rows:
        session.execute(insert(Discrepancy), rows)
    return len(rows)


def _row(run_id: int, finding: Finding) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "kind": finding.kind,
        "currency": finding.currency,
        "account": finding.account,
        "stripe_type": finding.stripe_type,
        "matched_by": finding.matched_by,
        "ledger_currency": finding.ledger_currency,
        "stripe_balance_transaction": finding.stripe_balance_transaction,
        "stripe_source": finding.stripe_source,
        "ledger_refs": list(finding.ledger_refs),
        "stripe_amount": finding.stripe_amount,
        "ledger_amount": finding.ledger_amount,
        "difference": finding.difference,
        "stripe_fee": finding.stripe_fee,
        "ledger_fee": finding.ledger_fee,
        "explanation": finding.explanation,
        "fingerprint": finding.fingerprint,
        "status": DiscrepancyStatus.OPEN,
        "occurred_at": _utc(finding.occurred_at),
    }


def merge_totals(
    existing: list[dict[str, Any]], more: Iterable[CurrencyTotals]
) -> list[dict[str, Any]]:
    """Per-currency totals summed across partitions (integers, sorted by currency)."""
    merged: dict[str, dict[str, Any]] = {row["currency"]: dict(row) for row in existing}
    for totals in more:
        row = totals.to_dict()
        current = merged.get(totals.currency)
        if current is None:
            merged[totals.currency] = row
        else:
            for key, value in row.items():
                if key != "currency":
                    current[key] = int(current[key]) + int(value)
    return [merged[currency] for currency in sorted(merged)]


def lock_day(session: Session, day: dt.date, account: str) -> None:
    """Serialise work on one day and account (finishing a run, acting on its findings)."""
    advisory_xact_lock(session, f"reconciliation:{day.isoformat()}:{account}")


def finish_run(session: Session, run: ReconciliationRun) -> None:
    """Supersede the day's earlier runs, carry statuses and notes forward, set the status."""
    lock_day(session, run.day, run.account)
    previous = session.scalars(
        select(ReconciliationRun)
        .where(
            ReconciliationRun.day == run.day,
            ReconciliationRun.account == run.account,
            ReconciliationRun.id != run.id,
            ReconciliationRun.superseded_by_id.is_(None),
            ReconciliationRun.status.in_((*CURRENT_RUN_STATUSES, RunStatus.FAILED)),
        )
        .order_by(ReconciliationRun.id)
        .with_for_update()
    ).all()
    now = session.scalar(select(func.now()))
    for old in previous:
        old.superseded_by_id = run.id
        old.superseded_at = now
    session.flush()
    carried = [
        old.id for old in previous if old.status in (RunStatus.DISCREPANCIES, RunStatus.RESOLVED)
    ]
    if carried:
        carry_forward(session, from_run_id=max(carried), to_run_id=run.id)
    run.finished_at = now
    refresh_status(session, run)


def refresh_status(session: Session, run: ReconciliationRun) -> RunStatus:
    """Set a finished run's status from its discrepancies: `clean` (none), `resolved` (all
    resolved by finance), else `discrepancies`; return it."""
    session.flush()
    outstanding = session.scalar(
        select(func.count())
        .select_from(Discrepancy)
        .where(Discrepancy.run_id == run.id, Discrepancy.status != DiscrepancyStatus.RESOLVED)
    )
    if not run.discrepancy_count:
        run.status = RunStatus.CLEAN
    else:
        run.status = RunStatus.DISCREPANCIES if outstanding else RunStatus.RESOLVED
    session.flush()
    return run.status


def previous_fingerprints(session: Session, run_id: int) -> set[str] | None:
    """The findings of the finished run this one superseded (None: the day's first run)."""
    previous = session.scalar(
        select(ReconciliationRun.id)
        .where(
            ReconciliationRun.superseded_by_id == run_id,
            ReconciliationRun.status.in_(CURRENT_RUN_STATUSES),
        )
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    )
    if previous is None:
        return None
    return set(
        session.scalars(select(Discrepancy.fingerprint).where(Discrepancy.run_id == previous))
    )


def carry_forward(session: Session, *, from_run_id: int, to_run_id: int) -> int:
    """Copy status and resolution_note onto the new run's discrepancies with the same
    fingerprint; return how many were carried."""
    result = session.execute(
        text(
            "UPDATE discrepancies AS d SET status = o.status,"
            " resolution_note = o.resolution_note, carried_from_id = o.id"
            " FROM discrepancies AS o"
            " WHERE d.run_id = :new AND o.run_id = :old AND o.fingerprint = d.fingerprint"
        ),
        {"new": to_run_id, "old": from_run_id},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def fail_run(session: Session, run_id: int, error: str) -> None:
    """Mark a run failed with its error (it supersedes nothing)."""
    session.execute(
        update(ReconciliationRun)
        .where(ReconciliationRun.id == run_id, ReconciliationRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.FAILED, error=error[:4000], finished_at=func.now())
    )


def record_failure(
    session: Session,
    window: DayWindow,
    account: str,
    *,
    source: str,
    error: str,
    source_detail: str | None = None,
    started_at: dt.datetime | None = None,
) -> int:
    """A failed run that never finished (Stripe unreachable while fetching, a report that
    does not parse): finance sees the attempt and its reason."""
    run = start_run(
        session,
        window,
        account,
        source=source,
        source_detail=source_detail,
        started_at=started_at,
    )
    fail_run(session, run.id, error)
    return run.id


def counts_of(run: ReconciliationRun) -> Counts:
    return Counts(run.stripe_rows, run.ledger_rows, run.matched, run.discrepancy_count)


def current_run(session: Session, day: dt.date, account: str) -> ReconciliationRun | None:
    """The latest finished run of a day for an account (the one not superseded)."""
    return session.scalars(
        select(ReconciliationRun)
        .where(
            ReconciliationRun.day == day,
            ReconciliationRun.account == account,
            ReconciliationRun.superseded_by_id.is_(None),
            ReconciliationRun.status.in_(CURRENT_RUN_STATUSES),
        )
        .order_by(ReconciliationRun.id.desc())
    ).first()
