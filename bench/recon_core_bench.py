"""Benchmark of the pure reconciliation core: 1,000,000 Stripe rows against a matching ledger.

Builds both frames in memory with a few thousand planted discrepancies of every kind, times
`reconcile`, and in the same run the in-memory floor (one pandas outer merge of the two
frames on balance_transaction), then prints both, the ratio and peak RSS; also times the
raw-page parser. The database half of the floor (COPY of both sides) belongs to the ledger
loader and is not measured here.

    /work/venv/bin/python bench/recon_core_bench.py [--rows 1000000] [--planted 500]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd

from reconciliation.engine import reconcile
from reconciliation.raw_pages import frame_from_pages
from reconciliation.window import DayWindow, day

TYPES = np.array(["charge", "refund", "transfer", "payout", "application_fee"])
TYPE_SHARE = [0.70, 0.10, 0.10, 0.05, 0.05]
SIGN = np.array([1, -1, -1, -1, 1])
PREFIX = np.array(["ch_", "re_", "tr_", "po_", "fee_"])
CURRENCIES = np.array(["usd", "jpy", "kwd"])


def ids(prefix: str, numbers: np.ndarray) -> pd.Series:
    return prefix + pd.Series(numbers).astype("str")


def repeated(values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """A text column of few distinct values sharing one str object each, as a loader that
    interns low-cardinality columns would build it (saves ~50 bytes a cell)."""
    shared = np.array([None if v is None else str(v) for v in values], dtype=object)
    return pd.Series(shared[codes], dtype="str")


def build_stripe(n: int, window: DayWindow, rng: np.random.Generator) -> pd.DataFrame:
    kind = rng.choice(len(TYPES), size=n, p=TYPE_SHARE)
    amount = rng.integers(100, 5_000_000, size=n) * SIGN[kind]
    fee = np.where(kind == 0, amount // 34, 0)
    numbers = np.arange(n)
    source = pd.Series(PREFIX[kind]) + pd.Series(numbers).astype("str")
    is_payout = (kind == 3).astype(np.int64)
    return pd.DataFrame(
        {
            "balance_transaction": ids("txn_", numbers),
            "type": repeated(TYPES, kind),
            "reporting_category": repeated(TYPES, kind),
            "source": source.astype("str"),
            "currency": repeated(CURRENCIES, rng.choice(3, size=n, p=[0.8, 0.1, 0.1])),
            "amount": amount.astype(np.int64),
            "fee": fee.astype(np.int64),
            "net": (amount - fee).astype(np.int64),
            "created": rng.integers(window.start, window.end, size=n).astype(np.int64),
            "status": repeated(np.array(["available"]), np.zeros(n, dtype=np.int64)),
            "account": repeated(np.array(["platform"]), np.zeros(n, dtype=np.int64)),
            "source_status": repeated(np.array([None, "paid"], dtype=object), is_payout),
        }
    )


def mirror(stripe: pd.DataFrame) -> pd.DataFrame:
    n = len(stripe)
    return pd.DataFrame(
        {
            "posting_id": np.arange(1, n + 1, dtype=np.int64),
            "posting_ref": ids("posting:", np.arange(1, n + 1)),
            "balance_transaction": stripe["balance_transaction"],
            "source": stripe["source"],
            "payment_intent": pd.Series(np.nan, index=range(n), dtype="str"),
            "type": stripe["type"],
            "currency": stripe["currency"],
            "amount": stripe["amount"],
            "fee": stripe["fee"],
            "net": stripe["net"],
            "occurred_at": stripe["created"],
            "account": stripe["account"],
            "status": stripe["source_status"],
        }
    )


def plant(
    stripe: pd.DataFrame, ledger: pd.DataFrame, k: int, window: DayWindow, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, Counter[str]]:
    """Plant k discrepancies of every kind on distinct rows (in place, to keep the peak RSS
    down); return the frames and the expected counts."""
    charges = np.flatnonzero((stripe["type"] == "charge").to_numpy())
    payouts = np.flatnonzero((stripe["type"] == "payout").to_numpy())
    picked = rng.choice(charges, size=7 * k, replace=False)
    amount_rows, fee_rows, currency_rows, dup_rows, missing_rows, timing_rows, probable_rows = (
        picked.reshape(7, k)
    )
    status_rows = rng.choice(payouts, size=k, replace=False)

    ledger.loc[amount_rows, ["amount", "net"]] += 1
    ledger.loc[fee_rows, "fee"] += 1
    ledger.loc[fee_rows, "net"] -= 1
    ledger.loc[currency_rows, "currency"] = "eur"
    ledger.loc[timing_rows, "occurred_at"] = window.end + 60
    ledger.loc[probable_rows, ["balance_transaction", "source"]] = np.nan
    ledger.loc[probable_rows, "occurred_at"] += 90
    stripe.loc[status_rows, "source_status"] = "failed"
    duplicates = ledger.loc[dup_rows].copy()
    duplicates["posting_id"] += 10_000_000
    duplicates["posting_ref"] = "posting:" + duplicates["posting_id"].astype("str")

    ghost_ids = np.arange(k)
    ghosts = ledger.loc[rng.choice(charges, size=k)].copy()
    ghosts["posting_id"] = 20_000_000 + ghost_ids
    ghosts["posting_ref"] = ids("posting:", 20_000_000 + ghost_ids).to_numpy()
    ghosts["balance_transaction"] = ids("txn_ghost", ghost_ids).to_numpy()
    ghosts["source"] = ids("ch_ghost", ghost_ids).to_numpy()
    ghosts["amount"] = ghosts["net"] = 900_000_000 + ghost_ids  # no probable twin
    ghosts["fee"] = 0

    n = len(stripe)
    adjustments = stripe.loc[rng.choice(charges, size=k)].copy()
    adjustments.index = pd.RangeIndex(n, n + k)
    adjustments["balance_transaction"] = ids("txn_adj", np.arange(k)).to_numpy()
    adjustments["type"] = "adjustment"
    adjustments["reporting_category"] = "dispute"
    adjustments["source"] = ids("du_", np.arange(k)).to_numpy()

    ledger = ledger.drop(index=missing_rows)
    ledger = pd.concat([ledger, duplicates, ghosts], ignore_index=True)
    stripe = pd.concat([stripe, adjustments], ignore_index=True)
    kinds = [
        "amount_mismatch",
        "fee_mismatch",
        "currency_mismatch",
        "duplicate_in_ledger",
        "missing_in_ledger",
        "timing",
        "probable_match",
        "status_mismatch",
        "missing_in_stripe",
        "unexpected_type",
    ]
    return stripe, ledger, Counter(dict.fromkeys(kinds, k))


def raw_pages(rows: int, page_size: int = 100) -> list[bytes]:
    pages = []
    for first in range(0, rows, page_size):
        data = [
            {
                "id": f"txn_{i}",
                "object": "balance_transaction",
                "amount": 1000 + i,
                "available_on": 1_773_100_000,
                "created": 1_773_100_000 + i,
                "currency": "usd",
                "description": None,
                "exchange_rate": None,
                "fee": 59,
                "fee_details": [{"amount": 59, "currency": "usd", "type": "stripe_fee"}],
                "net": 941 + i,
                "reporting_category": "charge",
                "source": f"ch_{i}",
                "status": "available",
                "type": "charge",
                "balance_type": "payments",
            }
            for i in range(first, min(first + page_size, rows))
        ]
        body = {"object": "list", "data": data, "has_more": True, "url": "/v1/balance_transactions"}
        pages.append(json.dumps(body).encode())
    return pages


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=500, help="discrepancies per kind")
    parser.add_argument("--page-rows", type=int, default=200_000)
    args = parser.parse_args()

    rng = np.random.default_rng(6)
    window = day("2026-03-10", "UTC")
    started = time.perf_counter()
    stripe = build_stripe(args.rows, window, rng)
    stripe, ledger, expected = plant(stripe, mirror(stripe), args.planted, window, rng)
    print(
        f"built {len(stripe):,} Stripe rows, {len(ledger):,} postings "
        f"in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    floor = stripe.merge(ledger, on="balance_transaction", how="outer", indicator=True)
    floor_s = time.perf_counter() - started
    del floor

    started = time.perf_counter()
    result = reconcile(stripe, ledger, window)
    reconcile_s = time.perf_counter() - started

    found = Counter(d.kind for d in result.discrepancies)
    print(f"floor (one outer merge on balance_transaction): {floor_s:.2f} s")
    print(f"reconcile (validate, match, classify, explain): {reconcile_s:.2f} s")
    print(
        f"ratio reconcile / floor: {reconcile_s / floor_s:.2f}x "
        "(in-memory half only; the ledger loader adds COPY of both sides to both figures)"
    )
    print(f"counts: {result.counts}")
    for kind in sorted(expected | found):
        flag = "" if found[kind] == expected[kind] else "   <-- differs"
        print(f"  {kind:20s} planted {expected[kind]:6,d} found {found[kind]:6,d}{flag}")

    print(f"peak RSS after building, floor and reconcile: {peak_rss_mb():,.0f} MB (aim < 1,024)")
    del stripe, ledger, result

    pages = raw_pages(args.page_rows)
    started = time.perf_counter()
    parsed = frame_from_pages(pages, account="platform")
    parse_s = time.perf_counter() - started
    print(
        f"raw-page parse: {len(parsed):,} rows in {parse_s:.2f} s = "
        f"{len(parsed) / parse_s:,.0f} rows/s (aim >= 100,000)"
    )
    print(f"peak RSS of the whole run: {peak_rss_mb():,.0f} MB")
    return 0 if found == expected else 1


if __name__ == "__main__":
    sys.exit(main())
