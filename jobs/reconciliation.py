"""Reconcile a day: enqueued by the scheduler (nightly) and the API (on demand).

`reconcile_day(day)` with no account fans out to one message per account (the platform, every
carrier, and every connected account Stripe lists with activity that day) as a Dramatiq
group. For one account it refreshes the local copy of Stripe's rows, then either reconciles
in this worker or, when the day holds more than `partition_threshold` rows (Stripe + ledger),
creates the run up front and splits it — into hash slices of about RECON_PARTITION_ROWS rows
a side when a side holds more (reconciliation/slices.py, written once to per-slice staging
tables: reconciliation/staging.py), else by currency — into a group of
`reconcile_partition` messages that run on any worker; the last partition to finish
completes the run (see reconciliation/runs.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq

from jobs import runtime
from jobs.broker import actor
from jobs.messages import RECONCILE_DAY
from jobs.retrying import retry_transient_failures
from models.db import transaction
from reconciliation import accounts as recon_accounts
from reconciliation import ledger_source, runs, service, slices, staging, stripe_cache
from reconciliation.errors import InvalidInput
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import ApiSource, CacheSource, LoadRequest
from reconciliation.window import day as window_of

log = logging.getLogger(__name__)

# Rows (Stripe + ledger, margins included) above which a day runs as currency partitions.
PARTITION_THRESHOLD = 250_000
QUEUE = RECONCILE_DAY.queue
TIME_LIMIT_MS = 60 * 60 * 1000

_http: StripeHTTP | None = None


def configure(http: StripeHTTP | None) -> None:
    """Read Stripe through this client (tests, the demo's in-process simulator); None
    restores the default built from STRIPE_API_BASE / STRIPE_API_KEY."""
    global _http
    _http = http


def stripe_http() -> StripeHTTP:
    if _http is not None:
        return _http
    settings = runtime.settings()
    return StripeHTTP(
        runtime.stripe_base(),
        settings.stripe_api_key,
        timeout=(settings.stripe_connect_timeout_s, settings.stripe_read_timeout_s),
        guard=runtime.stripe_guard(lane="background"),
    )


@actor(RECONCILE_DAY, max_retries=3, time_limit=TIME_LIMIT_MS)
def reconcile_day(
    day: str,
    account: str | None = None,
    tz: str | None = None,
    partition_threshold: int | None = None,
    partition_rows: int | None = None,
) -> None:
    tz = tz or runtime.settings().recon_timezone
    sessions = runtime.sessions()
    if account is None:
        with sessions() as session:
            ours = runs.known_accounts(session)
        span = window_of(day, tz)
        at_stripe = recon_accounts.active_at_stripe(stripe_http(), span.start, span.end)
        accounts = [*ours, *sorted(set(at_stripe) - set(ours))]
        dramatiq.group(
            [
                reconcile_day.message(day, a, tz, partition_threshold, partition_rows)
                for a in accounts
            ]
        ).run()
        return
    threshold = PARTITION_THRESHOLD if partition_threshold is None else partition_threshold
    with retry_transient_failures():
        try:
            rows = partition_rows or runtime.settings().recon_partition_rows
            _reconcile_account(day, account, tz, threshold, rows)
        except InvalidInput as error:  # a bad day or account: retrying cannot help
            log.error("reconciliation of %s for %s refused: %s", day, account, error)


def _reconcile_account(
    day: str, account: str, tz: str, threshold: int, partition_rows: int
) -> None:
    sessions = runtime.sessions()
    now = int(time.time())
    window = service.day_to_reconcile(day, tz, now)
    with sessions() as session:
        known = runs.is_known_account(session, account)
    # An account only Stripe knows of (listed there with activity) is reconciled too.
    if not known and not recon_accounts.exists_at_stripe(stripe_http(), account):
        with sessions() as session:
            runs.check_account(session, account)
    request = LoadRequest(window, account, service.DEFAULT_MARGIN_S, now)
    api = ApiSource(stripe_http())
    try:
        api.refresh(sessions, request)
    except Exception as error:
        with transaction(sessions) as session:
            runs.record_failure(session, window, account, source="api", error=str(error))
        raise
    with sessions() as session:
        stripe_rows = stripe_cache.count(session, account, request.start, request.end)
        ledger_rows = ledger_source.count_postings(session, account, request.start, request.end)
        currencies = stripe_cache.currencies(session, account, request.start, request.end)
    size = stripe_rows + ledger_rows
    parts = slices.slice_count(max(stripe_rows, ledger_rows), partition_rows)
    if parts == 1 and (size <= threshold or len(currencies) <= 1):
        cached = CacheSource(kind="api", detail=api.detail, http=api.http)
        service.run_day(
            sessions,
            cached,
            window.date or day,
            account,
            tz,
            now=now,
            alert_webhook_url=runtime.settings().alert_webhook_url,
        )
        return
    # Above RECON_PARTITION_ROWS: hash slices of the whole day, staged once (memory and
    # reading per slice); else one partition per currency.
    count = parts if parts > 1 else len(currencies)
    with transaction(sessions) as session:
        run = runs.start_run(
            session,
            window,
            account,
            source="api",
            source_detail=f"{api.detail}; {count} partitions",
            partitions=count,
        )
        run_id = run.id
    log.info("reconciliation run %d: %d rows, %d partitions", run_id, size, count)
    if parts > 1:
        plan = _stage(run_id, account, request.start, request.end, parts)
        messages = [
            reconcile_partition.message(run_id, None, plan.at(i).to_message()) for i in range(parts)
        ]
    else:
        messages = [reconcile_partition.message(run_id, c) for c in currencies]
    dramatiq.group(messages).run()


def _stage(run_id: int, account: str, start: int, end: int, parts: int) -> slices.Slice:
    """Write the run's slices to their staging tables (reconciliation/staging.py), after
    dropping what earlier runs left; a failed build fails the run (and drops what it wrote)."""
    sessions = runtime.sessions()
    try:
        with transaction(sessions) as session:
            staging.drop_stale(session)
        return staging.stage(sessions, run_id, account, start, end, parts)
    except Exception as error:
        with transaction(sessions) as session:
            runs.fail_run(session, run_id, f"staging slices: {type(error).__name__}: {error}")
        raise


@actor(queue_name=QUEUE, max_retries=3, time_limit=TIME_LIMIT_MS)
def reconcile_partition(
    run_id: int, currency: str | None, part: dict[str, Any] | None = None
) -> None:
    with retry_transient_failures():
        service.run_partition(
            runtime.sessions(),
            run_id,
            currency,
            part=slices.Slice.from_message(part) if part else None,
            alert_webhook_url=runtime.settings().alert_webhook_url,
            http=stripe_http(),
        )
