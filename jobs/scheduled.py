"""The periodic actors the scheduler enqueues, each run exactly once per period.

The scheduler process only sends these messages, by their references in jobs/messages.py,
with the period as argument (scheduler/sender.py: it never imports the actors, so it loads
neither pandas nor a database engine). Each actor claims its (job, period) row under an
advisory lock, in the same transaction as its effect (payments/scheduled_runs.py), so two
schedulers, a restarted scheduler, a redelivered message or the catch-up check all end in one
effect per period. A try that fails is recorded on the row (`failed`, with the error) and
retried: by Dramatiq (a database outage is a delayed retry), and after that by the scheduler's
catch-up check, which re-sends every period not `done`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from jobs import runtime
from jobs.broker import actor, current_broker
from jobs.enqueue import send_after_commit
from jobs.messages import (
    ADVANCE_BATCH,
    CATCH_UP,
    PROCESS_EVENT,
    RUN_NIGHTLY_RECONCILIATION,
    RUN_PAYOUT_BATCHING,
    SCHEDULED_SWEEP,
)
from jobs.payouts import alert_payout_failures
from jobs.reconciliation import reconcile_day
from jobs.reconciliation import stripe_http as recon_stripe_http
from jobs.retrying import retry_transient_failures
from jobs.sweeper import sweep as sweep_stuck
from models.db import transaction
from payments import activity, event_poller, payout_batching, scheduled_runs
from reconciliation import accounts as recon_accounts
from reconciliation import runs, window

log = logging.getLogger(__name__)

RECONCILIATION = "nightly_reconciliation"
PAYOUTS = payout_batching.JOB
SWEEP = "sweep"
# Periodic runs retry a while on their own; beyond that the catch-up check re-sends them.
OPTIONS: dict[str, Any] = {"max_retries": 20, "max_backoff": 60_000}
SWEEP_HISTORY_S = 86_400


def run_once(job: str, period: str, work: scheduled_runs.Work) -> dict[str, Any] | None:
    """scheduled_runs.run_once on this worker's database; a lost database is a delayed retry."""
    with retry_transient_failures():
        return scheduled_runs.run_once(runtime.sessions(), job, period, work)


def reconcile_accounts(
    session: Session, day: str, tz: str, at_stripe: Sequence[str] = ()
) -> dict[str, Any]:
    """Enqueue reconcile_day for the platform and each connected account active that day, in
    our records or at Stripe (`at_stripe`); the detail lists every account covered."""
    span = window.day(day, tz)
    start, end = datetime.fromtimestamp(span.start, UTC), datetime.fromtimestamp(span.end, UTC)
    ours = activity.active_connected_accounts(session, start, end)
    accounts = [runs.PLATFORM, *sorted(set(ours) | set(at_stripe))]
    done = [a for a in accounts if runs.current_run(session, date.fromisoformat(day), a)]
    todo = [a for a in accounts if a not in done]
    # Sent before COMMIT: if Redis refuses, the period stays open and is retried; sending after
    # COMMIT could lose the day with nobody noticing.
    for account in todo:
        reconcile_day.send(day, account, tz)
    return {
        "timezone": tz,
        "accounts": todo,
        "already_reconciled": done,
        "covered": accounts,
        "found_only_at_stripe": sorted(set(at_stripe) - set(ours)),
    }


@actor(RUN_NIGHTLY_RECONCILIATION, **OPTIONS)
def run_nightly_reconciliation(day: str, tz: str) -> None:
    # Asked before the period's transaction opens: no Stripe call while a lock is held.
    span = window.day(day, tz)
    at_stripe = recon_accounts.active_at_stripe(recon_stripe_http(), span.start, span.end)
    run_once(RECONCILIATION, day, lambda session: reconcile_accounts(session, day, tz, at_stripe))


@actor(RUN_PAYOUT_BATCHING, **OPTIONS)
def run_payout_batching(period: str) -> None:
    with retry_transient_failures():
        detail, batch_ids = payout_batching.batch_period(
            runtime.sessions(), period, dict(runtime.settings().payout_thresholds)
        )
    # After COMMIT: a batch whose message is lost is found by the sweeper (STUCK_AFTER_S).
    for batch_id in batch_ids:
        send_after_commit(current_broker(), ADVANCE_BATCH, batch_id)
    if detail is not None:
        log.info("payout batching %s: %s", period, detail)


@actor(SCHEDULED_SWEEP, max_retries=0)
def scheduled_sweep(minute: str) -> None:
    """Re-enqueue stuck work and fetch events webhooks missed, once a minute.

    At most once per minute (claimed first, then done): a sweep that fails is simply followed
    by the next minute's.
    """

    def claim(session: Session) -> dict[str, Any]:
        scheduled_runs.prune(session, SWEEP, SWEEP_HISTORY_S)
        return {}

    if run_once(SWEEP, minute, claim) is None:
        return
    sweep_stuck(runtime.settings().stuck_after_s)
    alert_payout_failures()
    try:
        new_events = event_poller.poll(runtime.sessions(), runtime.background_gateway())
    except Exception as error:  # noqa: BLE001 - Stripe down: the next minute polls again
        log.warning("event poller: %s", error)
        return
    for row_id in new_events:
        send_after_commit(current_broker(), PROCESS_EVENT, row_id)


@actor(CATCH_UP, **OPTIONS)
def catch_up(expected: dict[str, list[str]], tz: str) -> None:
    """Send the run of every expected period that is not done (oldest first)."""
    wanted = [(job, period) for job, periods in expected.items() for period in periods]
    with retry_transient_failures(), transaction(runtime.sessions()) as session:
        done = scheduled_runs.done_periods(session, wanted)
    missing = [pair for pair in wanted if pair not in done]
    for job, period in missing:
        if job == RECONCILIATION:
            run_nightly_reconciliation.send(period, tz)
        elif job == PAYOUTS:
            run_payout_batching.send(period)
    if missing:
        log.info("catch-up: sent %d periods not done yet: %s", len(missing), missing)
