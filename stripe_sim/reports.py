"""Itemized balance report CSVs, with Stripe's column names and formats.

Unlike the API, report CSVs give gross/fee/net in major units as decimal text (12.34 for
1234 cents, 1500 for JPY 1500) and timestamps as `YYYY-MM-DD HH:MM:SS`, both in UTC
(`*_utc`) and in the requested time zone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import currencies
from .collection import Obj
from .errors import InvalidRequest
from .store import AccountState, Store

ITEMIZED = "balance_change_from_activity.itemized.3"
CONNECTED_ITEMIZED = "connected_account_balance_change_from_activity.itemized.3"
REPORT_TYPES = (ITEMIZED, CONNECTED_ITEMIZED)

DEFAULT_COLUMNS = [
    "balance_transaction_id", "created_utc", "created", "available_on_utc", "available_on",
    "currency", "gross", "fee", "net", "reporting_category", "source_id", "description",
    "customer_facing_amount", "customer_facing_currency", "automatic_payout_id",
    "automatic_payout_effective_at_utc", "automatic_payout_effective_at", "customer_id",
    "customer_email", "customer_name", "customer_description", "charge_id",
    "payment_intent_id", "charge_created_utc", "charge_created", "payment_method_type",
    "card_brand", "card_funding", "card_country", "statement_descriptor", "transfer_id",
    "connected_account",
]
CONNECTED_COLUMNS = ["connected_account", "connected_account_name", "connected_account_country"]
_METADATA_PREFIXES = ("payment_metadata[", "refund_metadata[", "transfer_metadata[")


def major_units(amount: int, currency: str, separator: str = ".") -> str:
    exp = currencies.exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}{separator}{frac:0{exp}d}" if exp else f"{sign}{whole}"


def _stamp(ts: int | None, tz: ZoneInfo | None) -> str:
    if ts is None:
        return ""
    when = datetime.fromtimestamp(ts, UTC)
    if tz is not None:
        when = when.astimezone(tz)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(f"Invalid timezone: {name}", param="parameters[timezone]") from exc


def check_columns(columns: list[str], report_type: str) -> None:
    known = set(DEFAULT_COLUMNS) | set(CONNECTED_COLUMNS)
    for col in columns:
        if col not in known and not col.startswith(_METADATA_PREFIXES):
            raise InvalidRequest(f"Invalid column for {report_type}: {col}",
                                 param="parameters[columns]")


def _related(acct: AccountState, txn: Obj) -> dict[str, Any]:
    """The charge, refund and transfer behind a balance transaction, when there are any."""
    objs = acct.objects
    source = objs.get(txn["source"] or "")
    charge = refund = transfer = dispute = None
    if source is not None:
        kind = source["object"]
        if kind == "charge":
            charge = source
        elif kind in ("refund", "dispute"):
            refund = source if kind == "refund" else None
            dispute = source if kind == "dispute" else None
            charge = objs.get(source["charge"])
        elif kind == "transfer":
            transfer = source
        elif kind == "transfer_reversal":
            transfer = objs.get(source["transfer"])
    return {"charge": charge, "refund": refund, "transfer": transfer, "dispute": dispute}


def _customer_facing(txn: Obj, charge: Obj, refund: Obj | None, dispute: Obj | None) -> int:
    """What the customer saw move: the charge, the refund, or the disputed amount (a dispute
    withdrawal is negative, its reversal positive, like the balance transaction)."""
    if refund is not None:
        return -int(refund["amount"])
    if dispute is not None:
        return -int(dispute["amount"]) if txn["amount"] < 0 else int(dispute["amount"])
    return int(charge["amount"])


def _row(store: Store, acct: AccountState, txn: Obj, tz: ZoneInfo, sep: str) -> dict[str, str]:
    rel = _related(acct, txn)
    charge, refund, transfer = rel["charge"], rel["refund"], rel["transfer"]
    cur = txn["currency"]
    customer = acct.objects.get(charge["customer"] or "") if charge else None
    card = (charge or {}).get("payment_method_details", {}).get("card") or {}
    account = store.platform.objects.get(acct.id) if not acct.is_platform else None
    row = {
        "balance_transaction_id": txn["id"],
        "created_utc": _stamp(txn["created"], None),
        "created": _stamp(txn["created"], tz),
        "available_on_utc": _stamp(txn["available_on"], None),
        "available_on": _stamp(txn["available_on"], tz),
        "currency": cur,
        "gross": major_units(txn["amount"], cur, sep),
        "fee": major_units(txn["fee"], cur, sep),
        "net": major_units(txn["net"], cur, sep),
        "reporting_category": txn["reporting_category"],
        "source_id": txn["source"] or "",
        "description": txn["description"] or "",
        "customer_facing_amount": (
            major_units(_customer_facing(txn, charge, refund, rel["dispute"]), cur, sep)
            if charge else ""),
        "customer_facing_currency": cur if charge else "",
        "automatic_payout_id": "",
        "automatic_payout_effective_at_utc": "",
        "automatic_payout_effective_at": "",
        "customer_id": (charge or {}).get("customer") or "",
        "customer_email": (customer or {}).get("email") or "",
        "customer_name": (customer or {}).get("name") or "",
        "customer_description": (customer or {}).get("description") or "",
        "charge_id": charge["id"] if charge else "",
        "payment_intent_id": (charge or {}).get("payment_intent") or "",
        "charge_created_utc": _stamp(charge["created"], None) if charge else "",
        "charge_created": _stamp(charge["created"], tz) if charge else "",
        "payment_method_type": (charge or {}).get("payment_method_details", {}).get("type", ""),
        "card_brand": card.get("brand", ""),
        "card_funding": card.get("funding", ""),
        "card_country": card.get("country", ""),
        "statement_descriptor": (charge or {}).get("statement_descriptor") or "",
        "transfer_id": transfer["id"] if transfer else "",
        "connected_account": "" if acct.is_platform else acct.id,
        "connected_account_name": ((account or {}).get("business_profile") or {}).get("name")
        or "",
        "connected_account_country": (account or {}).get("country", ""),
    }
    for prefix, obj in (("payment_metadata", charge), ("refund_metadata", refund),
                        ("transfer_metadata", transfer)):
        for key, value in ((obj or {}).get("metadata") or {}).items():
            row[f"{prefix}[{key}]"] = value
    return row


def rows(
    store: Store, accounts: Iterable[AccountState], params: dict[str, Any]
) -> list[tuple[AccountState, Obj]]:
    created = {"gte": params["interval_start"], "lt": params["interval_end"]}
    currency = params.get("currency")
    category = params.get("reporting_category")
    out: list[tuple[AccountState, Obj]] = []
    for acct in accounts:
        coll = acct.collection("balance_transaction")
        data, _ = coll.page(limit=len(coll) or 1, created=created)
        for txn in reversed(data):  # oldest first, as Stripe's CSVs are
            if currency and txn["currency"] != currency:
                continue
            if category and txn["reporting_category"] != category:
                continue
            out.append((acct, txn))
    return out


def render(store: Store, accounts: Iterable[AccountState], report_type: str,
           params: dict[str, Any]) -> bytes:
    tz = zone(params.get("timezone"))
    sep = params.get("decimal_separator") or "."
    columns = list(params.get("columns") or DEFAULT_COLUMNS)
    if report_type == CONNECTED_ITEMIZED and not params.get("columns"):
        columns = [c for c in columns if c != "connected_account"] + CONNECTED_COLUMNS
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for acct, txn in rows(store, accounts, params):
        row = _row(store, acct, txn, tz, sep)
        writer.writerow([row.get(col, "") for col in columns])
    return buf.getvalue().encode()
