"""run_day: one reconciliation run of one day for one account, from inputs to a stored run.

1. Check the inputs: an IANA time zone, a day that has begun in it, an account we know.
   Bad input raises an InvalidInput leaf and persists nothing (no run row).
2. Stripe's side from the source (API through the cache, cache, report run, CSV file); a
   report that does not parse is bad input too.
3. The ledger's side with COPY, over the window plus the margin.
4. The pure core: `engine.reconcile`.
5. Persist (runs.start_run + add_result, which supersedes and carries forward), then alert
   when there are discrepancies. A failure after step 1 that is not bad input (Stripe
   unreachable, a database error) is recorded as a `failed` run and raised again; so is a
   report that does not parse, so finance sees the refused attempt and its reason.

`run_partition` is the same for one currency of a large day, or one hash slice of it
(slices.py), feeding a run created up front (see jobs/reconciliation.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from models.db import transaction
from reconciliation import alerts, context, ledger_source, runs, staging, stripe_lookup
from reconciliation.engine import reconcile
from reconciliation.errors import InvalidInput, InvalidReport
from reconciliation.exports import run_report
from reconciliation.progress import NoProgress, Progress
from reconciliation.result import ReconciliationResult
from reconciliation.slices import Slice
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import CacheSource, LoadRequest, StripeSource
from reconciliation.window import day, day_to_reconcile

log = logging.getLogger("midway.reconciliation")

# Rows this far outside the day on either side are loaded too, so a posting booked just
# across midnight is reported as `timing`, not as missing on one day and extra on the next.
DEFAULT_MARGIN_S = 6 * 3600


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    status: str  # clean / discrepancies
    result: ReconciliationResult
    timings: dict[str, float]


def run_day(
    sessions: sessionmaker[Session],
    source: StripeSource,
    date: dt.date | str,
    account: str = "platform",
    tz: str = "UTC",
    *,
    now: int | None = None,
    margin_s: int = DEFAULT_MARGIN_S,
    alert_webhook_url: str | None = None,
    progress: Progress | None = None,
) -> RunOutcome:
    """Reconcile one day for one account and store the run; see the module docstring."""
    progress = progress or NoProgress()
    now = int(time.time()) if now is None else now
    window = day_to_reconcile(date, tz, now)
    with sessions() as session:
        runs.check_account(session, account)
    request = LoadRequest(window, account, margin_s, now, progress)
    timings: dict[str, float] = {}
    started_at = dt.datetime.now(dt.UTC)
    try:
        clock = time.perf_counter()
        stripe_frame = source.load(sessions, request)
        timings["stripe_side"] = time.perf_counter() - clock
        result = _reconcile(sessions, stripe_frame, request, None, timings, source)
        progress.stage("saving run")
        with transaction(sessions) as session:
            run = runs.start_run(
                session,
                window,
                account,
                source=source.kind,
                source_detail=source.detail,
                started_at=started_at,
            )
            runs.add_result(session, run.id, result)
            run_id, status = run.id, run.status
    except InvalidInput as error:
        if isinstance(error, InvalidReport):  # finance sees the refused file and why
            _record_failure(sessions, request, source, started_at, str(error))
        raise
    except Exception as error:
        _record_failure(sessions, request, source, started_at, f"{type(error).__name__}: {error}")
        raise
    finally:
        progress.done()
    _announce(sessions, run_id, alert_webhook_url)
    return RunOutcome(run_id, status, result, timings)


def _record_failure(
    sessions: sessionmaker[Session],
    request: LoadRequest,
    source: StripeSource,
    started_at: dt.datetime,
    error: str,
) -> None:
    with transaction(sessions) as session:
        runs.record_failure(
            session,
            request.window,
            request.account,
            source=source.kind,
            source_detail=source.detail,
            error=error,
            started_at=started_at,
        )


def run_partition(
    sessions: sessionmaker[Session],
    run_id: int,
    currency: str | None,
    *,
    part: Slice | None = None,
    margin_s: int = DEFAULT_MARGIN_S,
    alert_webhook_url: str | None = None,
    http: StripeHTTP | None = None,
) -> bool:
    """Reconcile one partition of a run created up front — one currency, or one hash slice
    of the day (`part`, from ledger_source.plan_slices; slices.py) — from the cache and add
    it to the run; returns True if this partition finished the run. With `http`, findings
    are explained with what Stripe says about them (as in a run in one piece).

    A staged slice (staging.py) whose tables are gone was added to its run already, or its
    run failed: a second delivery of its job does nothing."""
    staged = part if part is not None and part.staged is not None else None
    with sessions() as session:
        run = session.get(runs.ReconciliationRun, run_id)
        if run is None:
            raise runs.RunNotFound(f"no reconciliation run {run_id}")
        window = day(run.day, run.timezone)
        account = run.account
    if staged and not _still_staged(sessions, staged):
        log.info("run %d: slice %d was added already, or the run ended", run_id, staged.index)
        return False
    request = LoadRequest(window, account, margin_s, int(time.time()))
    name = " ".join(
        [currency or "all currencies"] + ([f"slice {part.index + 1}/{part.count}"] if part else [])
    )
    try:
        source = CacheSource(currency=currency, part=part)
        stripe_frame = source.load(sessions, request)
        result = _reconcile(
            sessions, stripe_frame, request, (currency, part), {}, CacheSource(http=http)
        )
        with transaction(sessions) as session:
            # Staged: the slice's tables go in the same commit as its result, or neither.
            if staged and not staging.claim(session, run_id, staged):
                return False
            finished = runs.add_result(session, run_id, result)
    except Exception as error:
        if staged and not _still_staged(sessions, staged):
            # Its tables went while it ran: a twin delivery added it, or the run failed.
            log.info("run %d: slice %d ended elsewhere (%s)", run_id, staged.index, error)
            return False
        with transaction(sessions) as session:
            runs.fail_run(session, run_id, f"partition {name}: {type(error).__name__}: {error}")
        if staged:
            with transaction(sessions) as session:
                staging.drop_run(session, run_id)
        raise
    if finished:
        _announce(sessions, run_id, alert_webhook_url)
    return finished


def _still_staged(sessions: sessionmaker[Session], part: Slice) -> bool:
    with sessions() as session:
        return staging.is_staged(session, part)


def _reconcile(
    sessions: sessionmaker[Session],
    stripe_frame: pd.DataFrame,
    request: LoadRequest,
    partition: tuple[str | None, Slice | None] | None,
    timings: dict[str, float],
    source: StripeSource,
) -> ReconciliationResult:
    request.progress.stage("loading ledger")
    clock = time.perf_counter()
    currency, piece = partition or (None, None)
    with sessions() as session:
        ledger_frame = ledger_source.load_ledger_frame(
            session, request.account, request.start, request.end, currency=currency, part=piece
        )
    request.progress.advance(len(ledger_frame))
    stripe_frame = stripe_lookup.complete(
        sessions,
        stripe_frame,
        ledger_frame,
        request,
        covers_margins=source.covers_margins,
        http=source.http,
    )
    timings["ledger_side"] = time.perf_counter() - clock
    request.progress.stage("matching", total=len(stripe_frame) + len(ledger_frame))
    clock = time.perf_counter()
    result = reconcile(stripe_frame, ledger_frame, request.window, margin_s=request.margin_s)
    request.progress.advance(len(stripe_frame) + len(ledger_frame))
    timings["match"] = time.perf_counter() - clock
    if not result.discrepancies:
        return result
    findings = context.annotate(sessions, result.discrepancies, request.account, source.http)
    return dataclasses.replace(result, discrepancies=findings)


def _announce(sessions: sessionmaker[Session], run_id: int, webhook_url: str | None) -> None:
    with sessions() as session:
        report = run_report(session, run_id)
        previous = runs.previous_fingerprints(session, run_id)
    alerts.announce(report, previous, webhook_url)
