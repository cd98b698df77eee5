"""The nightly carrier payout batch: who is paid, how much, in one SQL pass over the ledger.

For each carrier whose connected account has payouts enabled, per currency with a threshold:
- owed      = carrier_payable − carrier_receivable (refunds after they were paid are netted);
- stranded  = what sits on their connected balance (stripe_balance:<acct>), e.g. after a
              failed payout returned the money — it is retried with the next batch;
- both less what unfinished batches already claim (a transfer not yet made, a payout not yet
  created), so a batch that has not run yet is never paid twice.
A carrier is batched when max(owed, 0) + stranded reaches the currency's threshold; below it
their balance rolls over to the next period. The batch transfers max(owed, 0) — clearing the
receivable by `receivable_offset` in the same posting (bookings.book_transfer) — and pays out
the transfer plus the stranded money, by the carrier's chosen method. An instant payout leaves
a fee reserve on the balance (Stripe charges the fee to the connected account); the reserve
goes out with a later batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models import PayoutBatch
from models.payments import PayoutBatchStatus
from payments.scheduled_runs import lock, run_once

JOB = "payout_batching"

# Instant payouts: Stripe takes 1–1.5% (minimum 50 minor units) from the connected balance on
# top of the payout. Leave 2%, at least 100 minor units, so the payout is never refused.
INSTANT_FEE_RESERVE_BPS = 200
INSTANT_FEE_RESERVE_MIN = 100

_SELECT = text(
    """
    WITH acc AS (
        SELECT id, currency, split_part(code, ':', 1) AS kind, split_part(code, ':', 2) AS ref
        FROM ledger_accounts
        WHERE code LIKE :payable OR code LIKE :receivable OR code LIKE :connected
    ), bal AS (
        SELECT acc.kind, acc.ref, acc.currency,
               SUM(CASE WHEN l.side = 'debit' THEN l.amount ELSE -l.amount END) AS balance
        FROM ledger_lines l JOIN acc ON acc.id = l.account_id
        GROUP BY acc.id, acc.kind, acc.ref, acc.currency
    ), keyed AS (
        SELECT CAST(ref AS bigint) AS carrier_id, currency, kind, balance
        FROM bal WHERE kind <> 'stripe_balance'
        UNION ALL
        SELECT c.id, b.currency, b.kind, b.balance
        FROM bal b JOIN carriers c ON c.stripe_account_id = b.ref
        WHERE b.kind = 'stripe_balance'
    ), totals AS (
        SELECT carrier_id, currency,
               COALESCE(SUM(-balance) FILTER (WHERE kind = 'carrier_payable'), 0) AS payable,
               COALESCE(SUM(balance) FILTER (WHERE kind = 'carrier_receivable'), 0) AS receivable,
               COALESCE(SUM(balance) FILTER (WHERE kind = 'stripe_balance'), 0) AS funds
        FROM keyed GROUP BY carrier_id, currency
    ), reserved AS (
        SELECT carrier_id, currency,
               SUM(CASE WHEN recovery_point = 'started' THEN amount + receivable_offset
                   ELSE 0 END) AS payable,
               SUM(CASE WHEN recovery_point = 'started' THEN receivable_offset
                   ELSE 0 END) AS receivable,
               SUM(CASE WHEN flow = 'transfer' THEN 0
                        WHEN recovery_point = 'started'
                        THEN COALESCE(payout_amount, amount) - amount
                        ELSE COALESCE(payout_amount, amount) END) AS funds
        FROM payout_batches
        WHERE recovery_point IN ('started', 'transferred')
        GROUP BY carrier_id, currency
    ), net AS (
        SELECT t.carrier_id, t.currency, th.minimum,
               t.payable - COALESCE(r.payable, 0) AS payable,
               t.receivable - COALESCE(r.receivable, 0) AS receivable,
               t.funds - COALESCE(r.funds, 0) AS funds
        FROM totals t
        JOIN unnest(CAST(:currencies AS text[]), CAST(:minimums AS bigint[]))
             AS th(currency, minimum) ON th.currency = t.currency
        LEFT JOIN reserved r ON r.carrier_id = t.carrier_id AND r.currency = t.currency
    )
    SELECT n.carrier_id, c.name, c.stripe_account_id, c.payout_method, n.currency,
           n.payable, n.receivable, n.funds
    FROM net n JOIN carriers c ON c.id = n.carrier_id
    WHERE c.payouts_enabled AND c.stripe_account_id IS NOT NULL
      AND GREATEST(n.payable - n.receivable, 0) + GREATEST(n.funds, 0) >= n.minimum
    ORDER BY n.carrier_id, n.currency
    """
)


@dataclass(frozen=True)
class Candidate:
    """One (carrier, currency) the batch pays, with the figures that decided it."""

    carrier_id: int
    carrier_name: str
    stripe_account: str
    currency: str
    method: str
    payable: int
    receivable: int
    stranded: int
    transfer: int
    receivable_offset: int
    payout: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def instant_fee_reserve(amount: int) -> int:
    return max(-(-amount * INSTANT_FEE_RESERVE_BPS // 10_000), INSTANT_FEE_RESERVE_MIN)


def _candidate(row: Any) -> Candidate | None:
    carrier_id, name, account, method, currency, payable, receivable, funds = row
    owed = int(payable) - int(receivable)
    transfer = max(owed, 0)
    # Receivables are cleared only against a transfer; otherwise they wait for one.
    offset = int(receivable) if transfer > 0 else 0
    stranded = max(int(funds), 0)
    payout = transfer + stranded
    if method == "instant":
        payout -= instant_fee_reserve(payout)
    if payout <= 0:
        return None
    return Candidate(
        int(carrier_id),
        name,
        account,
        currency,
        method,
        int(payable),
        int(receivable),
        stranded,
        transfer,
        offset,
        payout,
    )


def select_params(thresholds: dict[str, int]) -> dict[str, Any]:
    currencies = sorted(thresholds)
    return {
        "currencies": currencies,
        "minimums": [thresholds[c] for c in currencies],
        # LIKE patterns: a backslash makes `_` a literal underscore.
        "payable": "carrier\\_payable:%",
        "receivable": "carrier\\_receivable:%",
        "connected": "stripe\\_balance:acct\\_%",
    }


def select_candidates(session: Session, thresholds: dict[str, int]) -> list[Candidate]:
    """Every carrier and currency due a payout now (no writes)."""
    # One pass over a large ledger: no JIT (its compile time exceeds the query's run time
    # here) and memory enough to hash-aggregate every carrier account without spilling.
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    rows = session.execute(_SELECT, select_params(thresholds))
    return [c for c in map(_candidate, rows) if c is not None]


def create_batches(
    session: Session, period: date, thresholds: dict[str, int]
) -> tuple[list[int], list[Candidate]]:
    """Create the period's batches (flow=batch) in this transaction; return their ids.

    Serialised across periods by an advisory lock, so two periods batched at once (catch-up)
    never both claim the same balance: the second sees the first's batches as reserved.
    """
    lock(session, "payout_batching")
    candidates = select_candidates(session, thresholds)
    if not candidates:
        return [], []
    ids = session.scalars(
        insert(PayoutBatch)
        .values(
            [
                {
                    "carrier_id": c.carrier_id,
                    "amount": c.transfer,
                    "currency": c.currency,
                    "period": period,
                    "flow": "batch",
                    "method": c.method,
                    "receivable_offset": c.receivable_offset,
                    "payout_amount": c.payout,
                    "status": PayoutBatchStatus.PENDING,
                    "recovery_point": "started",
                }
                for c in candidates
            ]
        )
        .on_conflict_do_nothing(
            index_elements=["carrier_id", "currency", "period"],
            index_where=text("flow = 'batch'"),
        )
        .returning(PayoutBatch.id)
    ).all()
    return list(ids), candidates


def totals(candidates: list[Candidate]) -> dict[str, dict[str, int]]:
    """Per currency: carriers, transferred and paid out (for the run's record and the CLI)."""
    out: dict[str, dict[str, int]] = {}
    for c in candidates:
        row = out.setdefault(c.currency, {"carriers": 0, "transfer": 0, "payout": 0})
        row["carriers"] += 1
        row["transfer"] += c.transfer
        row["payout"] += c.payout
    return out


def batch_period(
    sessions: sessionmaker[Session],
    period: str,
    thresholds: dict[str, int],
    collect: list[Candidate] | None = None,
) -> tuple[dict[str, Any] | None, list[int]]:
    """Create the period's payout batches once (the scheduler's job and `midway payouts batch`
    alike); return (the run's detail, None when done already; the new batch ids). `collect`
    receives the carriers batched."""
    created: list[int] = []

    def work(session: Session) -> dict[str, Any]:
        ids, candidates = create_batches(session, date.fromisoformat(period), thresholds)
        created.extend(ids)
        if collect is not None:
            collect.extend(candidates)
        return {"batches": len(ids), "totals": totals(candidates)}

    return run_once(sessions, JOB, period, work), created


# --- What finance must look at -----------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    """A payout batch Stripe refused or that failed, or a batching period that was refused."""

    what: str  # "batch" or "period"
    period: str
    reason: str
    batch_id: int | None = None
    carrier: str | None = None
    stripe_account: str | None = None
    currency: str | None = None
    amount: int | None = None  # the payout, minor units

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_FAILED_BATCHES = text(
    """
    SELECT b.id, b.period, c.name, c.stripe_account_id, b.currency,
           COALESCE(b.payout_amount, b.amount),
           concat_ws(': ', b.failure_code, b.failure_message)
    FROM payout_batches b JOIN carriers c ON c.id = b.carrier_id
    WHERE b.status = 'failed' AND b.period >= :since
    ORDER BY b.period DESC, b.id DESC
    LIMIT :limit
    """
)
_FAILED_PERIODS = text(
    """
    SELECT period, error FROM scheduled_runs
    WHERE job = 'payout_batching' AND status = 'failed'
    ORDER BY period DESC LIMIT :limit
    """
)


def needing_attention(session: Session, since: date, limit: int = 50) -> list[Attention]:
    """Failed batches of periods since `since`, and batching periods that failed or were
    refused (a period run by hand before it came), newest first."""
    periods = [
        Attention("period", str(period), str(error or "failed"))
        for period, error in session.execute(_FAILED_PERIODS, {"limit": limit})
    ]
    batches = _failed_batches(session.execute(_FAILED_BATCHES, {"since": since, "limit": limit}))
    return periods + batches


def claim_failure_alerts(session: Session) -> list[Attention]:
    """Failed batches nobody was alerted about yet, each marked alerted so it is alerted once
    (the caller commits, then alerts)."""
    claimed = [
        int(batch_id)
        for (batch_id,) in session.execute(
            text(
                "UPDATE payout_batches SET alerted_at = now()"
                " WHERE status = 'failed' AND alerted_at IS NULL RETURNING id"
            )
        )
    ]
    if not claimed:
        return []
    rows = session.execute(
        text(_FAILED_BATCHES.text.replace("b.period >= :since", "b.id = ANY(:ids)")),
        {"ids": claimed, "limit": len(claimed)},
    )
    return _failed_batches(rows)


def _failed_batches(rows: Iterable[Any]) -> list[Attention]:
    """Rows of _FAILED_BATCHES as findings."""
    return [
        Attention("batch", period.isoformat(), reason or "failed", int(batch_id), name, account,
                  currency, int(amount))
        for batch_id, period, name, account, currency, amount, reason in rows
    ]
