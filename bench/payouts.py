"""Benchmark of payout batch selection: 100,000 carriers with ledger history.

1. Creates a scratch database (DATABASE_URL's server, else an embedded PostgreSQL in a
   temporary folder), migrates it, and generates in SQL, per carrier: three paid loads
   (charge postings: platform balance, Stripe fee, carrier payable, commission), one past
   transfer of the first load's share (payable cleared, money received on the connected
   balance) and its payout; every 10th carrier owes a refund receivable, every 50th had that
   payout fail (money stranded on the connected balance), every 10th has payouts disabled,
   and 1,000 batches are still in flight. Synthetic postings load with
   `session_replication_role = replica` in this scratch database only (no per-line deferred
   balance triggers); the generator balances every posting itself.
2. Times payments.payout_batching.select_candidates (the nightly batch's selection) against
   two floors: one plain aggregate (count and sum) over every ledger line, and a sum per
   account over every line (the balances alone, no joins, thresholds or reservations).

    /work/venv/bin/python bench/payouts.py [--carriers 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import support_path  # noqa: E402, F401  (tests/support on sys.path)
from scratch_databases import scratch_database, server_url
from sqlalchemy import create_engine, text

from models.db import make_session_factory
from models.migrate import upgrade
from payments import payout_batching

THRESHOLDS = {"usd": 10000, "eur": 10000, "jpy": 10000}
# Account ids are arithmetic so lines can be generated without lookups.
PLATFORM_BALANCE, FEES, COMMISSION = 1, 2, 3


def acct(kind: int) -> str:
    """SQL for carrier c's account id: 0 payable, 1 receivable, 2 connected balance, 3 funds."""
    return f"(10 + 4 * c + {kind})"


LOAD = [
    # Carriers: payouts enabled except every 10th.
    """INSERT INTO carriers (id, name, email, country, default_currency, stripe_account_id,
           charges_enabled, payouts_enabled, payout_method, recovery_point)
       SELECT c, 'Carrier ' || c, 'c' || c || '@bench.test', 'US', 'usd', 'acct_bench' || c,
              true, c % 10 <> 0, CASE WHEN c % 7 = 0 THEN 'instant' ELSE 'standard' END,
              'finished'
       FROM generate_series(1, :n) AS c""",
    f"""INSERT INTO ledger_accounts (id, code, currency, kind) VALUES
           ({PLATFORM_BALANCE}, 'stripe_balance:platform', 'usd', 'asset'),
           ({FEES}, 'stripe_fees', 'usd', 'expense'),
           ({COMMISSION}, 'commission_revenue', 'usd', 'revenue')""",
    f"""INSERT INTO ledger_accounts (id, code, currency, kind)
       SELECT {acct(0)}, 'carrier_payable:' || c, 'usd', 'liability' FROM generate_series(1, :n) c
       UNION ALL
       SELECT {acct(1)}, 'carrier_receivable:' || c, 'usd', 'asset' FROM generate_series(1, :n) c
       UNION ALL
       SELECT {acct(2)}, 'stripe_balance:acct_bench' || c, 'usd', 'asset'
       FROM generate_series(1, :n) c
       UNION ALL
       SELECT {acct(3)}, 'carrier_funds:acct_bench' || c, 'usd', 'liability'
       FROM generate_series(1, :n) c""",
    "SELECT setval(pg_get_serial_sequence('ledger_accounts', 'id'), 10 + 4 * (:n + 1))",
    # Postings: 6 per carrier (3 charges, transfer, transfer received, payout); id = 6c + k.
    """INSERT INTO ledger_postings (id, kind, occurred_at, dedupe_key)
       SELECT 6 * c + k, (ARRAY['charge','charge','charge','transfer','payment','payout'])[k + 1],
              now() - (k || ' days')::interval, 'bench:' || (6 * c + k)
       FROM generate_series(1, :n) c, generate_series(0, 5) k""",
    # Charges: share s, gross g = s + s/4, fee 3%: platform net + fee = share + commission.
    f"""INSERT INTO ledger_lines (posting_id, account_id, side, amount, currency)
       SELECT 6 * c + k, x.account, x.side, x.amount, 'usd'
       FROM generate_series(1, :n) c, generate_series(0, 2) k,
            LATERAL (SELECT s, (s + s / 4) * 3 / 100 AS fee
                     FROM (SELECT 3000 + (c * 7919 + k * 104729) % 9000 AS s) AS raw) share,
            LATERAL (VALUES
                ({PLATFORM_BALANCE}, 'debit', share.s + share.s / 4 - share.fee),
                ({FEES}, 'debit', share.fee),
                ({acct(0)}, 'credit', share.s),
                ({COMMISSION}, 'credit', share.s / 4)) AS x(account, side, amount)""",
    # The first load's share was transferred, received and paid out; every 10th carrier then
    # refunded (receivable 500, from commission); every 50th payout failed (no payout line).
    f"""INSERT INTO ledger_lines (posting_id, account_id, side, amount, currency)
       SELECT 6 * c + x.k, x.account, x.side, share.s, 'usd'
       FROM generate_series(1, :n) c,
            LATERAL (SELECT 3000 + (c * 7919) % 9000 AS s) share,
            LATERAL (VALUES
                (3, {acct(0)}, 'debit'), (3, {PLATFORM_BALANCE}, 'credit'),
                (4, {acct(2)}, 'debit'), (4, {acct(3)}, 'credit'),
                (5, {acct(3)}, 'debit'), (5, {acct(2)}, 'credit')) AS x(k, account, side)
       WHERE x.k < 5 OR c % 50 <> 25""",
    """INSERT INTO ledger_postings (id, kind, occurred_at, dedupe_key)
       SELECT 6 * (:n + 1) + c, 'refund', now(), 'bench:refund:' || c
       FROM generate_series(5, :n, 10) c""",
    f"""INSERT INTO ledger_lines (posting_id, account_id, side, amount, currency)
       SELECT 6 * (:n + 1) + c, x.account, x.side, 500, 'usd'
       FROM generate_series(5, :n, 10) c,
            LATERAL (VALUES ({acct(1)}, 'debit'), ({COMMISSION}, 'debit'),
                            ({PLATFORM_BALANCE}, 'credit')) AS x(account, side)
       WHERE x.account <> {COMMISSION}""",
    """INSERT INTO payout_batches (carrier_id, amount, currency, period, flow, method,
           receivable_offset, payout_amount, status, recovery_point)
       SELECT c, 5000, 'usd', DATE '2026-03-09', 'batch', 'standard', 0, 5000, 'pending',
              'started'
       FROM generate_series(3, :n, GREATEST(:n / 1000, 1)) c""",
]


def best_of(repeat: int, run: object) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carriers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print the query plan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with scratch_database(server_url(Path(tmp)), "midway_bench_payouts") as url:
            upgrade(url)
            engine = create_engine(url)
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for statement in LOAD:
                    conn.execute(text(statement), {"n": args.carriers})
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
                lines = conn.execute(text("SELECT count(*) FROM ledger_lines")).scalar_one()
            print(
                f"loaded {args.carriers:,} carriers, {lines:,} ledger lines"
                f" in {time.perf_counter() - started:.1f} s"
            )
            sessions = make_session_factory(engine)

            def select() -> list[payout_batching.Candidate]:
                with sessions() as session:
                    return payout_batching.select_candidates(session, THRESHOLDS)

            def floor() -> object:
                with engine.connect() as conn:
                    return conn.execute(
                        text("SELECT count(*), sum(amount) FROM ledger_lines")
                    ).one()

            if args.explain:
                with engine.begin() as conn:
                    conn.execute(text("SET LOCAL jit = off"))
                    conn.execute(text("SET LOCAL work_mem = '64MB'"))
                    plan = conn.execute(
                        text("EXPLAIN (ANALYZE, BUFFERS) " + str(payout_batching._SELECT)),
                        payout_batching.select_params(THRESHOLDS),
                    )
                    print("\n".join(row[0] for row in plan))

            def per_account() -> object:
                with engine.begin() as conn:
                    conn.execute(text("SET LOCAL work_mem = '64MB'"))
                    return conn.execute(
                        text(
                            "SELECT count(*) FROM (SELECT account_id, sum(amount)"
                            " FROM ledger_lines GROUP BY account_id) AS per_account"
                        )
                    ).scalar_one()

            select()  # warm the cache, as the nightly run finds it
            selection_s, candidates = best_of(args.repeat, select)
            floor_s, _ = best_of(args.repeat, floor)
            grouped_s, _ = best_of(args.repeat, per_account)
            assert isinstance(candidates, list)
            stranded = sum(1 for c in candidates if c.stranded > 0)
            offset = sum(1 for c in candidates if c.receivable_offset > 0)
            print(
                f"batch selection: {selection_s:.3f} s for {args.carriers:,} carriers"
                f" -> {len(candidates):,} to pay ({offset:,} netting a receivable,"
                f" {stranded:,} retrying a failed payout); target < 2 s"
            )
            print(
                f"floor (count+sum over every ledger line): {floor_s:.3f} s;"
                f" selection / floor = {selection_s / floor_s:.1f}x"
            )
            print(
                f"floor (sum per account over every ledger line): {grouped_s:.3f} s;"
                f" selection / that = {selection_s / grouped_s:.1f}x"
            )
            engine.dispose()


if __name__ == "__main__":
    main()
