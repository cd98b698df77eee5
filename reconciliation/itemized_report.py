"""Parse a Stripe itemized balance report CSV into the STRIPE frame.

Report types: `balance_change_from_activity.itemized.3` and its connected-account variant
`connected_account_balance_change_from_activity.itemized.3` (which adds `connected_account`
and `connected_account_name`). A row whose `connected_account` cell is filled belongs to that
account; rows without the column, or with the cell empty, belong to `account`.

Facts the parser relies on: gross/fee/net are MAJOR units as decimal text ("12.34" usd,
"1500" jpy, "1.234" kwd); `created_utc` is "YYYY-MM-DD HH:MM:SS" in UTC. Amounts are turned
into minor units by exact integer arithmetic on the digits, column-wise (never float); the
per-row walk happens only to name the first bad row in an error. Row numbers in messages are
spreadsheet rows: the header is row 1, the first data row is row 2.

The report has no balance transaction `type`; it is derived from `reporting_category` (and
the source id's prefix, to tell `payment` from `charge`). The report does not say whether a
row is still pending, so `status` is "available" if `available_on_utc` is at or before
`as_of` (when given), "pending" if after, and "unknown" otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TextIO

import numpy as np
import pandas as pd

from reconciliation.errors import (
    DuplicateBalanceTransaction,
    InvalidReportAmount,
    InvalidTimestamp,
    MissingReportColumn,
    MissingValue,
    RowOutsideWindow,
    UnknownReportCurrency,
)
from reconciliation.frames import STRIPE_COLUMNS, TEXT
from reconciliation.money_format import KNOWN_CURRENCIES, THREE_DECIMAL, ZERO_DECIMAL
from reconciliation.window import DayWindow

REQUIRED_COLUMNS: tuple[str, ...] = (
    "balance_transaction_id",
    "created_utc",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
)
CONNECTED_ACCOUNT_COLUMN = "connected_account"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

# reporting_category -> balance transaction type, where the report's category is coarser.
CATEGORY_TYPES: dict[str, str] = {
    "charge": "charge",
    "refund": "refund",
    "charge_failure": "payment_failure_refund",
    "transfer": "transfer",
    "transfer_reversal": "transfer_refund",
    "payout": "payout",
    "payout_reversal": "payout_failure",
    "platform_earning": "application_fee",
    "platform_earning_refund": "application_fee_refund",
    "fee": "stripe_fee",
    "dispute": "adjustment",
    "dispute_reversal": "adjustment",
    "other_adjustment": "adjustment",
}
# Bank-debit payments (py_ / pyr_ sources) are `payment` / `payment_refund` in the API.
_PAYMENT_PREFIXES = {"charge": ("py_", "payment"), "refund": ("pyr_", "payment_refund")}


def parse_itemized_report(
    csv: TextIO | str,
    window: DayWindow | tuple[int, int] | None = None,
    *,
    account: str = "platform",
    as_of: int | None = None,
    decimal_separator: str = ".",
) -> pd.DataFrame:
    """The STRIPE frame of an itemized report. `csv` is the report's text or an open text file.

    With `window`, every row must have start <= created_utc < end. Raises an InvalidReport
    leaf (MissingReportColumn, MissingValue, InvalidReportAmount, UnknownReportCurrency,
    InvalidTimestamp, RowOutsideWindow, DuplicateBalanceTransaction) naming row and column.
    """
    handle = io.StringIO(csv) if isinstance(csv, str) else csv
    table = pd.read_csv(handle, dtype=str, keep_default_na=False, na_filter=False)
    _check_columns(table.columns)
    if len(table) == 0:
        return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in STRIPE_COLUMNS})
    table.index = pd.RangeIndex(2, len(table) + 2)  # spreadsheet row numbers

    text = {name: table[name].str.strip() for name in REQUIRED_COLUMNS}
    for name in REQUIRED_COLUMNS:
        _fail_at(text[name] == "", MissingValue, name, "is empty")

    currency = text["currency"].str.lower()
    _fail_at(
        ~currency.isin(KNOWN_CURRENCIES),
        UnknownReportCurrency,
        "currency",
        "is not a known ISO 4217 currency",
        text["currency"],
    )
    exponents = _exponents(currency)
    amounts = {
        name: _minor_units(text[name], exponents, name, decimal_separator)
        for name in ("gross", "fee", "net")
    }
    _fail_at(
        amounts["gross"] - amounts["fee"] != amounts["net"],
        InvalidReportAmount,
        "net",
        "is not gross minus fee",
        text["net"],
    )
    created = _timestamps(text["created_utc"], "created_utc")
    if window is not None:
        start, end = (window.start, window.end) if isinstance(window, DayWindow) else window
        _fail_at(
            (created < start) | (created >= end),
            RowOutsideWindow,
            "created_utc",
            f"is outside the requested window [{_utc(start)}, {_utc(end)}) UTC",
            text["created_utc"],
        )
    ids = text["balance_transaction_id"]
    _fail_at(
        ids.duplicated(),
        DuplicateBalanceTransaction,
        "balance_transaction_id",
        "repeats an earlier row",
        ids,
    )

    source = table["source_id"].str.strip() if "source_id" in table.columns else None
    category = text["reporting_category"]
    accounts = pd.Series(account, index=table.index, dtype=TEXT)
    if CONNECTED_ACCOUNT_COLUMN in table.columns:
        # The platform's own report may carry the column too (empty on platform rows).
        named = table[CONNECTED_ACCOUNT_COLUMN].str.strip()
        accounts = accounts.mask(named != "", named)
    frame = pd.DataFrame(
        {
            "balance_transaction": ids,
            "type": _types(category, source),
            "reporting_category": category,
            "source": _nullable(source, len(table)),
            "currency": currency,
            "amount": amounts["gross"],
            "fee": amounts["fee"],
            "net": amounts["net"],
            "created": created,
            "status": _statuses(table, as_of),
            "account": accounts,
            "source_status": pd.Series(np.nan, index=table.index, dtype=TEXT),
        }
    )
    frame = frame.astype({c.name: c.dtype for c in STRIPE_COLUMNS})
    return frame.reset_index(drop=True)


def _check_columns(columns: Sequence[str]) -> None:
    present = set(columns)
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        unknown = sorted(present - set(REQUIRED_COLUMNS))
        raise MissingReportColumn(
            f"row 1 (header): missing column(s) {', '.join(map(repr, missing))}; "
            f"is this a balance_change_from_activity.itemized.3 report? "
            f"Other columns present: {', '.join(map(repr, unknown)) or 'none'}"
        )


def _fail_at(
    bad: pd.Series | np.ndarray,
    error: type[Exception],
    column: str,
    problem: str,
    values: pd.Series | None = None,
) -> None:
    """Raise `error` naming the first row where `bad` holds, its column and its value."""
    if not bad.any():
        return
    if not isinstance(bad, pd.Series):  # a plain array lines up with the values' rows
        assert values is not None
        bad = pd.Series(bad, index=values.index)
    row = bad.idxmax()
    shown = f" ({values[row]!r})" if values is not None else ""
    raise error(f"row {row}, column {column!r}: value{shown} {problem}")


def _exponents(currency: pd.Series) -> np.ndarray:
    exponents = np.full(len(currency), 2, dtype=np.int64)
    exponents[currency.isin(ZERO_DECIMAL).to_numpy()] = 0
    exponents[currency.isin(THREE_DECIMAL).to_numpy()] = 3
    return exponents


def _minor_units(text: pd.Series, exponents: np.ndarray, column: str, separator: str) -> np.ndarray:
    """Exact minor units from decimal text, column-wise: digits only, never float."""
    sep = "\\" + separator
    shape = text.str.fullmatch(rf"[-+]?(\d+({sep}\d*)?|{sep}\d+)")
    _fail_at(~shape, InvalidReportAmount, column, "is not a decimal number", text)
    negative = text.str.startswith("-").to_numpy()
    unsigned = text.str.lstrip("+-")
    parts = unsigned.str.partition(separator)
    whole, fraction = parts[0], parts[2]
    too_precise = fraction.str.rstrip("0").str.len().to_numpy() > exponents
    _fail_at(
        too_precise,
        InvalidReportAmount,
        column,
        "has more decimals than its currency allows",
        text,
    )
    _fail_at(whole.str.len() > 15, InvalidReportAmount, column, "is too large", text)
    whole_units = whole.replace("", "0").astype(np.int64).to_numpy()
    minor = np.zeros(len(text), dtype=np.int64)
    for exponent in np.unique(exponents).tolist():
        rows = exponents == exponent
        if exponent:
            digits = fraction[rows].str.slice(0, exponent).str.ljust(exponent, "0")
            minor[rows] = digits.astype(np.int64).to_numpy()
    amounts = whole_units * (10**exponents) + minor
    return np.where(negative, -amounts, amounts)


def _timestamps(text: pd.Series, column: str) -> np.ndarray:
    parsed = pd.to_datetime(text, format=TIMESTAMP_FORMAT, errors="coerce")
    _fail_at(parsed.isna(), InvalidTimestamp, column, "is not YYYY-MM-DD HH:MM:SS", text)
    return parsed.dt.as_unit("s").astype(np.int64).to_numpy()


def _utc(unix: int) -> str:
    return pd.Timestamp(unix, unit="s").strftime(TIMESTAMP_FORMAT)


def _types(category: pd.Series, source: pd.Series | None) -> pd.Series:
    types = category.map(CATEGORY_TYPES).fillna(category)
    if source is not None:
        for base, (prefix, payment_type) in _PAYMENT_PREFIXES.items():
            is_payment = (category == base) & source.str.startswith(prefix)
            types = types.mask(is_payment, payment_type)
    return types


def _nullable(values: pd.Series | None, length: int) -> pd.Series | list[None]:
    if values is None:
        return [None] * length
    return values.mask(values == "")


def _statuses(table: pd.DataFrame, as_of: int | None) -> pd.Series:
    unknown = pd.Series("unknown", index=table.index)
    if as_of is None or "available_on_utc" not in table.columns:
        return unknown
    available_on = pd.to_datetime(
        table["available_on_utc"].str.strip(), format=TIMESTAMP_FORMAT, errors="coerce"
    )
    _fail_at(
        available_on.isna() & (table["available_on_utc"].str.strip() != ""),
        InvalidTimestamp,
        "available_on_utc",
        "is not YYYY-MM-DD HH:MM:SS",
        table["available_on_utc"],
    )
    known = available_on.notna().to_numpy()
    seconds = np.zeros(len(table), dtype=np.int64)
    seconds[known] = available_on[known].dt.as_unit("s").astype(np.int64).to_numpy()
    status = np.where(~known, "unknown", np.where(seconds <= as_of, "available", "pending"))
    return pd.Series(status, index=table.index)
