"""Balance transactions and the balance they sum to.

Every money movement creates one balance transaction (gross `amount`, `fee`, `net`); the
balance object is kept as running totals of `net` per currency, status and source type, so
it always equals the sum of the account's balance transactions.
"""

from __future__ import annotations

from typing import Any

from . import ids
from .collection import Obj
from .config import DAY
from .events import emit
from .store import TICK_HOOKS, AccountState, Store, on_due

REPORTING_CATEGORY = {
    "charge": "charge",
    "payment": "charge",
    # https://docs.stripe.com/reports/reporting-categories: a capture below the authorization
    # shows the full authorization and a second transaction reversing the uncaptured part.
    "partial_capture_reversal": "partial_capture_reversal",
    "refund": "refund",
    "payment_refund": "refund",
    "payment_failure_refund": "charge_failure",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "payout": "payout",
    "payout_failure": "payout_reversal",
    "payout_cancel": "payout_reversal",
    "application_fee": "platform_earning",
    "application_fee_refund": "platform_earning_refund",
    "adjustment": "other_adjustment",
    "stripe_fee": "fee",
}


def fee_detail(amount: int, currency: str, kind: str, description: str,
               application: str | None = None) -> Obj:
    return {
        "amount": amount,
        "application": application,
        "currency": currency,
        "description": description,
        "type": kind,
    }


def day_start(ts: int) -> int:
    return ts - ts % DAY


def charge_available_on(store: Store, created: int) -> int:
    return day_start(created) + store.config.available_delay_days * DAY


def _bump(acct: AccountState, currency: str, status: str, source_type: str, delta: int) -> None:
    key = (currency, status, source_type)
    acct.totals[key] = acct.totals.get(key, 0) + delta


def create(
    store: Store,
    acct: AccountState,
    *,
    amount: int,
    currency: str,
    type: str,
    source: str | None,
    fee_details: list[Obj] | None = None,
    description: str | None = None,
    available_on: int | None = None,
    source_type: str = "card",
    reporting_category: str | None = None,
    exchange_rate: float | None = None,
) -> Obj:
    now = store.now()
    details = fee_details or []
    fee = sum(d["amount"] for d in details)
    available_on = now if available_on is None else available_on
    status = "available" if available_on <= now else "pending"
    txn: Obj = {
        "id": ids.new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_on,
        "balance_type": "payments",
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": exchange_rate,
        "fee": fee,
        "fee_details": details,
        "net": amount - fee,
        # Adjustments say what they adjust (dispute, dispute_reversal) in their category.
        "reporting_category": reporting_category
        or REPORTING_CATEGORY.get(type, "other_adjustment"),
        "source": source,
        "status": status,
        "type": type,
    }
    store.add(acct, txn)
    store.internal(acct, txn["id"])["source_type"] = source_type
    _bump(acct, currency, status, source_type, txn["net"])
    if status == "pending":
        store.schedule(available_on, "txn.available", acct, txn["id"])
    elif txn["net"] > 0 and type in ("charge", "payment"):
        store.became_available.add(acct.id)
    return txn


@on_due("txn.available")
def _make_available(store: Store, acct: AccountState, txn_id: str) -> None:
    txn = acct.objects.get(txn_id)
    if txn is None or txn["status"] != "pending":
        return
    if txn["available_on"] > store.now():  # moved later (e.g. tied to another charge)
        store.schedule(txn["available_on"], "txn.available", acct, txn_id)
        return
    source_type = store.internal(acct, txn_id).get("source_type", "card")
    _bump(acct, txn["currency"], "pending", source_type, -txn["net"])
    _bump(acct, txn["currency"], "available", source_type, txn["net"])
    txn["status"] = "available"
    store.became_available.add(acct.id)


def set_fee(store: Store, acct: AccountState, txn: Obj, new_fee: int) -> None:
    """Stripe adjusting a fee after the fact: the Stripe-fee part absorbs the difference."""
    delta = new_fee - txn["fee"]
    if not delta:
        return
    details = txn["fee_details"]
    stripe_part = next((d for d in details if d["type"] == "stripe_fee"), None)
    if stripe_part is None:
        stripe_part = fee_detail(0, txn["currency"], "stripe_fee", "Stripe processing fees")
        details.append(stripe_part)
    stripe_part["amount"] += delta
    txn["fee"] = new_fee
    txn["net"] -= delta
    source_type = store.internal(acct, txn["id"]).get("source_type", "card")
    _bump(acct, txn["currency"], txn["status"], source_type, -delta)


def amount_of(
    acct: AccountState, currency: str, status: str, source_type: str | None = None
) -> int:
    return sum(
        v
        for (cur, st, src), v in acct.totals.items()
        if cur == currency and st == status and (source_type is None or src == source_type)
    )


def balance(store: Store, acct: AccountState) -> Obj:
    currencies = sorted({cur for (cur, _, _) in acct.totals}) or [store.config.default_currency]

    def entries(status: str) -> list[Obj]:
        out = []
        for cur in currencies:
            by_source: dict[str, int] = {"card": 0}
            for (c, st, src), v in acct.totals.items():
                if c == cur and st == status:
                    by_source[src] = by_source.get(src, 0) + v
            out.append({"amount": sum(by_source.values()), "currency": cur,
                        "source_types": by_source})
        return out

    return {
        "object": "balance",
        "available": entries("available"),
        "connect_reserved": [{"amount": 0, "currency": cur} for cur in currencies],
        "livemode": False,
        "pending": entries("pending"),
    }


def _emit_balance_available(store: Store) -> None:
    # One balance.available per account whose funds became available in this request/tick.
    pending = store.became_available
    if not pending:
        return
    store.became_available = set()
    for acct_id in sorted(pending):
        acct = store.accounts.get(acct_id)
        if acct is not None:
            emit(store, acct, "balance.available", balance(store, acct))


TICK_HOOKS.append(_emit_balance_available)


def flush(store: Store) -> None:
    """Emit balance.available for funds that became available during a request."""
    _emit_balance_available(store)


def describe(value: Any) -> str | None:
    return value if isinstance(value, str) else None
