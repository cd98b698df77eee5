"""The synthetic day of bench/recon.py, generated inside PostgreSQL (INSERT … SELECT over
generate_series): no row passes through Python, so 10 million a side take minutes and a few
megabytes of this process, not 9.8 GB.

Row i of the day (0 <= i < rows − planted) is one Stripe balance transaction `txn_<i>` and
the posting that mirrors it (id i + 1), with its lines: net on the balance, fee (memo "fee"),
gross on a counterparty, so every posting balances. Type, amount, currency and time come
from hashes of i (hashint8extended with a seed per attribute), the same for a given size.
Every (rows − planted) // (8 · planted)-th row is a plant, of kind j % 8 for plant j:

    0 amount_mismatch   the posting's gross and net one unit more
    1 fee_mismatch      the posting's fee one more, its net one less
    2 currency_mismatch the posting in eur
    3 duplicate_in_ledger  a second posting for the same charge (id rows − planted + 1 + j)
    4 missing_in_ledger the posting left out (an amount of its own, so no probable twin)
    5 timing            the posting a minute after the day's end
    6 probable_match    the posting booked by hand: no balance transaction or source, only a
                        PaymentIntent, 90 s later
    7 status_mismatch   a payout that Stripe says failed and the ledger has as paid

plus `planted` postings Stripe lacks (missing_in_stripe: ghost ids, amounts of their own)
and `planted` dispute adjustments no posting mirrors (unexpected_type). Both sides then hold
exactly `rows` rows.

Loading drops the tables' plain indexes and builds them again afterwards (one sorted build
instead of ten million random inserts) and runs with `session_replication_role = replica`,
in the bench's own database only: that skips the ledger's deferred balance triggers (the
generator balances every posting itself) and the foreign key checks.
"""

from __future__ import annotations

import time
from collections import Counter

import psycopg

KINDS = (
    "amount_mismatch",
    "fee_mismatch",
    "currency_mismatch",
    "duplicate_in_ledger",
    "missing_in_ledger",
    "timing",
    "probable_match",
    "status_mismatch",
)
EXTRA_KINDS = ("missing_in_stripe", "unexpected_type")
TABLES = ("stripe_balance_transactions", "ledger_postings", "ledger_lines")
ACCOUNTS = (
    ("stripe_balance:platform", "asset"),
    ("stripe_fees", "expense"),
    ("bench_counterparty", "liability"),
)
CURRENCIES = ("usd", "jpy", "kwd", "eur")

# One row per i: the Stripe side and what the ledger makes of it. {base}, {stride},
# {planted}, {start}, {end} are filled in; `plant` is -1 or the plant's kind (0 … 7).
_BASE = """
CREATE TEMP VIEW bench_day AS
WITH drawn AS (
    SELECT i,
           CASE WHEN i % {stride} = 0 AND i / {stride} < 8 * {planted}
                THEN (i / {stride})::int % 8 ELSE -1 END AS plant,
           (i / {stride})::bigint AS j,
           abs(hashint8extended(i, 1) % 100) AS pick,
           100 + abs(hashint8extended(i, 2) % 4999900) AS size,
           abs(hashint8extended(i, 3) % 10) AS money,
           {start} + abs(hashint8extended(i, 4) % ({end} - {start})) AS at
    FROM generate_series(0, {base} - 1) AS i
), typed AS (
    SELECT *,
           CASE WHEN plant BETWEEN 0 AND 6 THEN 'charge' WHEN plant = 7 THEN 'payout'
                WHEN pick < 70 THEN 'charge' WHEN pick < 80 THEN 'refund'
                WHEN pick < 90 THEN 'transfer' WHEN pick < 95 THEN 'payout'
                ELSE 'application_fee' END AS type
    FROM drawn
), valued AS (
    SELECT *,
           CASE WHEN plant = 4 THEN 700000000 + j ELSE size END
           * CASE WHEN type IN ('charge', 'application_fee') THEN 1 ELSE -1 END AS amount,
           CASE WHEN money < 8 THEN 'usd' WHEN money = 8 THEN 'jpy' ELSE 'kwd' END AS currency
    FROM typed
)
SELECT i, plant, j, type, amount, currency, at,
       CASE WHEN type = 'charge' THEN amount / 34 ELSE 0 END AS fee,
       CASE type WHEN 'charge' THEN 'ch_' WHEN 'refund' THEN 're_' WHEN 'transfer' THEN 'tr_'
                 WHEN 'payout' THEN 'po_' ELSE 'fee_' END || i AS source
FROM valued
"""

_STRIPE = """
INSERT INTO stripe_balance_transactions
    (id, account, type, reporting_category, source, amount, fee, net, currency, status,
     source_status, created, fetched_at)
SELECT 'txn_' || i, 'platform', type, type, source, amount, fee, amount - fee, currency,
       'available', CASE WHEN plant = 7 THEN 'failed' WHEN type = 'payout' THEN 'paid' END,
       to_timestamp(at), now()
FROM bench_day
UNION ALL
SELECT 'txn_adj' || g, 'platform', 'adjustment', 'dispute', 'du_' || g, 800000000 + g, 0,
       800000000 + g, 'usd', 'available', NULL, to_timestamp({start} + 7200 + g), now()
FROM generate_series(0, {planted} - 1) AS g
"""

# The ledger's view of each row: (posting id, kind, time, ids, currency, gross, fee).
_POSTINGS = """
CREATE TEMP VIEW bench_postings AS
SELECT i + 1 AS id, type AS kind,
       CASE plant WHEN 5 THEN {end} + 60 WHEN 6 THEN at + 90 ELSE at END AS at,
       CASE WHEN plant = 6 THEN NULL ELSE 'txn_' || i END AS txn,
       CASE WHEN plant = 6 THEN NULL ELSE source END AS source,
       CASE WHEN plant = 6 THEN 'pi_by_hand' || i END AS intent,
       CASE WHEN plant = 2 THEN 'eur' ELSE currency END AS currency,
       amount + CASE WHEN plant = 0 THEN 1 ELSE 0 END AS amount,
       fee + CASE WHEN plant = 1 THEN 1 ELSE 0 END AS fee
FROM bench_day WHERE plant <> 4
UNION ALL
SELECT {base} + 1 + j, type, at, 'txn_' || i, source, NULL, currency, amount, fee
FROM bench_day WHERE plant = 3
UNION ALL
SELECT {base} + 8 * {planted} + 1 + g, 'charge', {start} + 3600 + g, 'txn_ghost' || g,
       'ch_ghost' || g, NULL, 'usd', 900000000 + g, 0
FROM generate_series(0, {planted} - 1) AS g
"""

_INSERT_POSTINGS = """
INSERT INTO ledger_postings
    (id, kind, occurred_at, stripe_balance_transaction, stripe_source, stripe_payment_intent)
SELECT id, kind, to_timestamp(at), txn, source, intent FROM bench_postings
"""

# Net on the balance, fee, gross on the counterparty: net + fee − gross = 0 per posting.
_LINES = """
INSERT INTO ledger_lines (posting_id, account_id, side, amount, currency, memo)
SELECT p.id, a.id, CASE WHEN line.signed > 0 THEN 'debit' ELSE 'credit' END,
       abs(line.signed), p.currency, line.memo
FROM bench_postings p
CROSS JOIN LATERAL (VALUES ('stripe_balance:platform', p.amount - p.fee, 'net'),
                           ('stripe_fees', p.fee, 'fee'),
                           ('bench_counterparty', -p.amount, NULL)) AS line(code, signed, memo)
JOIN ledger_accounts a ON a.code = line.code AND a.currency = p.currency
WHERE line.signed <> 0
"""


def expected(planted: int) -> Counter[str]:
    return Counter(dict.fromkeys(KINDS + EXTRA_KINDS, planted))


def generate(dsn: str, rows: int, planted: int, start: int, end: int) -> dict[str, float]:
    """Fill the (migrated, empty) database at `dsn` with the day [start, end): `rows` a side,
    `planted` discrepancies of every kind. Returns seconds per step."""
    base = rows - planted
    stride = base // (8 * planted)
    if stride < 1:
        raise ValueError(f"{rows:,} rows cannot hold {planted} plants of every kind")
    fill = {"base": base, "stride": stride, "planted": planted, "start": start, "end": end}
    timings: dict[str, float] = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '512MB'")
        for code, kind in ACCOUNTS:
            for currency in CURRENCIES:
                conn.execute(
                    "INSERT INTO ledger_accounts (code, currency, kind) VALUES (%s, %s, %s)",
                    (code, currency, kind),
                )
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
            " AND i.tablename = ANY(%s) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(TABLES),),
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(_BASE.format(**fill))
        conn.execute(_POSTINGS.format(**fill))
        for what, statement in (
            ("Stripe rows", _STRIPE),
            ("postings", _INSERT_POSTINGS),
            ("lines", _LINES),
        ):
            started = time.perf_counter()
            conn.execute(statement.format(**fill))
            timings[f"insert {what}"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute(
            "SELECT setval('ledger_postings_id_seq', (SELECT max(id) FROM ledger_postings))"
        )
        timings[f"build {len(indexes)} indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum analyze"] = time.perf_counter() - started
    return timings
