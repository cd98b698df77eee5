"""Hand-built Stripe rows and their ledger mirrors for the reconciliation core's tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reconciliation.frames import ledger_frame, stripe_frame
from reconciliation.window import DayWindow, day

WINDOW: DayWindow = day("2026-03-10", "UTC")


def stripe_row(
    txn: str,
    *,
    type: str = "charge",
    source: str | None = None,
    currency: str = "usd",
    amount: int = 1000,
    fee: int = 0,
    created: int | None = None,
    category: str | None = None,
    source_status: str | None = None,
    account: str = "platform",
) -> dict[str, Any]:
    return {
        "balance_transaction": txn,
        "type": type,
        "reporting_category": category or type,
        "source": source,
        "currency": currency,
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "created": WINDOW.start + 3600 if created is None else created,
        "status": "available",
        "account": account,
        "source_status": source_status,
    }


def mirror(row: dict[str, Any], posting_id: int, **changes: Any) -> dict[str, Any]:
    """The ledger posting that mirrors a Stripe row exactly, with optional changes."""
    posting = {
        "posting_id": posting_id,
        "posting_ref": f"posting:{posting_id}",
        "balance_transaction": row["balance_transaction"],
        "source": row["source"],
        "payment_intent": None,
        "type": row["type"],
        "currency": row["currency"],
        "amount": row["amount"],
        "fee": row["fee"],
        "net": row["net"],
        "occurred_at": row["created"],
        "account": row["account"],
        "status": row["source_status"] if row["type"] == "payout" else None,
    }
    posting.update(changes)
    if ("amount" in changes or "fee" in changes) and "net" not in changes:
        posting["net"] = posting["amount"] - posting["fee"]
    return posting


def base_rows() -> list[dict[str, Any]]:
    """A clean day: charges, a refund, a transfer, a payout, an application fee, in USD, JPY
    (zero-decimal) and KWD (three-decimal), one hour apart from 01:00."""
    hour = 3600
    start = WINDOW.start
    rows = [
        stripe_row("txn_c1", source="ch_1", amount=12_34, fee=66, created=start + 1 * hour),
        stripe_row("txn_c2", source="ch_2", amount=250_00, fee=7_55, created=start + 2 * hour),
        stripe_row("txn_c3", source="ch_3", amount=99_99, fee=3_20, created=start + 3 * hour),
        stripe_row("txn_r1", type="refund", source="re_1", amount=-5_00, created=start + 4 * hour),
        stripe_row(
            "txn_t1", type="transfer", source="tr_1", amount=-180_00, created=start + 5 * hour
        ),
        stripe_row(
            "txn_p1",
            type="payout",
            source="po_1",
            amount=-300_00,
            created=start + 6 * hour,
            source_status="paid",
        ),
        stripe_row(
            "txn_f1", type="application_fee", source="fee_1", amount=20_00, created=start + 7 * hour
        ),
        stripe_row(
            "txn_j1", source="ch_j1", currency="jpy", amount=1500, fee=54, created=start + 8 * hour
        ),
        stripe_row(
            "txn_j2",
            source="ch_j2",
            currency="jpy",
            amount=82_000,
            fee=2_900,
            created=start + 9 * hour,
        ),
        stripe_row(
            "txn_k1",
            source="ch_k1",
            currency="kwd",
            amount=1_234,
            fee=40,
            created=start + 10 * hour,
        ),
        stripe_row(
            "txn_k2",
            type="refund",
            source="re_k2",
            currency="kwd",
            amount=-2_500,
            created=start + 11 * hour,
        ),
        stripe_row(
            "txn_py1",
            type="payment",
            source="py_1",
            amount=75_00,
            fee=60,
            created=start + 12 * hour,
        ),
    ]
    return rows


def mirrors(rows: list[dict[str, Any]], first_id: int = 1) -> list[dict[str, Any]]:
    return [mirror(row, first_id + i) for i, row in enumerate(rows)]


def frames(
    stripe_rows: list[dict[str, Any]], ledger_rows: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return stripe_frame(stripe_rows), ledger_frame(ledger_rows)
