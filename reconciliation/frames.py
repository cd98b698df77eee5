"""Column contracts of the two frames the core reconciles, with validators and builders.

STRIPE frame, one row per balance transaction (signs from the balance's point of view):
    balance_transaction str   txn_…, unique
    type                str   charge, payment, refund, payment_refund, transfer, payout,
                              payout_failure, application_fee, adjustment, stripe_fee, …
    reporting_category  str
    source              str?  ch_/py_/re_/tr_/po_/fee_/du_ id
    currency            str   lowercase ISO 4217
    amount, fee, net    int64 minor units (gross, fee, net)
    created             int64 unix seconds, UTC
    status              str   pending / available
    account             str   "platform" or acct_…
    source_status       str?  for payouts the payout's status (paid, failed, in_transit, …)

LEDGER frame, one row per posting that mirrors Stripe activity, same signs as Stripe:
    posting_id          int64
    posting_ref         str   human ref, e.g. "posting:123"
    balance_transaction str?
    source              str?
    payment_intent      str?
    type                str   Stripe's `type` vocabulary
    currency            str
    amount, fee, net    int64 minor units
    occurred_at         int64 unix seconds (Stripe's `created`, copied at posting time)
    account             str
    status              str?  payout postings: paid / failed / pending

Text columns use pandas' default string dtype ("str", missing values are NaN); ints are
numpy int64. Money is never float: a float money column is rejected, not rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_integer_dtype, is_string_dtype

from reconciliation.errors import (
    DuplicateBalanceTransaction,
    MissingColumn,
    NullValue,
    WrongColumnType,
)

TEXT = "str"
INT = "int64"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str  # TEXT or INT
    nullable: bool = False


STRIPE_COLUMNS: tuple[Column, ...] = (
    Column("balance_transaction", TEXT),
    Column("type", TEXT),
    Column("reporting_category", TEXT),
    Column("source", TEXT, nullable=True),
    Column("currency", TEXT),
    Column("amount", INT),
    Column("fee", INT),
    Column("net", INT),
    Column("created", INT),
    Column("status", TEXT),
    Column("account", TEXT),
    Column("source_status", TEXT, nullable=True),
)

LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("posting_id", INT),
    Column("posting_ref", TEXT),
    Column("balance_transaction", TEXT, nullable=True),
    Column("source", TEXT, nullable=True),
    Column("payment_intent", TEXT, nullable=True),
    Column("type", TEXT),
    Column("currency", TEXT),
    Column("amount", INT),
    Column("fee", INT),
    Column("net", INT),
    Column("occurred_at", INT),
    Column("account", TEXT),
    Column("status", TEXT, nullable=True),
)

STRIPE_DTYPES: dict[str, str] = {c.name: c.dtype for c in STRIPE_COLUMNS}
LEDGER_DTYPES: dict[str, str] = {c.name: c.dtype for c in LEDGER_COLUMNS}


def empty_stripe_frame() -> pd.DataFrame:
    """A STRIPE frame with no rows and the contract's dtypes."""
    return _empty(STRIPE_COLUMNS)


def empty_ledger_frame() -> pd.DataFrame:
    """A LEDGER frame with no rows and the contract's dtypes."""
    return _empty(LEDGER_COLUMNS)


def stripe_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a validated STRIPE frame from dicts (nullable keys may be left out)."""
    return _from_records(records, STRIPE_COLUMNS, "stripe")


def ledger_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a validated LEDGER frame from dicts (nullable keys may be left out)."""
    return _from_records(records, LEDGER_COLUMNS, "ledger")


def validate_stripe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Check the STRIPE contract; return the contract's columns with canonical dtypes.

    Raises MissingColumn, WrongColumnType, NullValue or DuplicateBalanceTransaction, each
    naming the column (and the first offending row label where there is one).
    """
    conformed = _conform(frame, STRIPE_COLUMNS, "stripe")
    duplicated = conformed["balance_transaction"].duplicated()
    if duplicated.any():
        label = duplicated.idxmax()
        raise DuplicateBalanceTransaction(
            f"stripe frame: column 'balance_transaction' lists "
            f"{conformed.at[label, 'balance_transaction']!r} more than once (row {label!r})"
        )
    return conformed


def validate_ledger_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Check the LEDGER contract; return the contract's columns with canonical dtypes."""
    return _conform(frame, LEDGER_COLUMNS, "ledger")


def _empty(columns: tuple[Column, ...]) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in columns})


def _from_records(
    records: Iterable[Mapping[str, Any]], columns: tuple[Column, ...], side: str
) -> pd.DataFrame:
    rows = list(records)
    if not rows:
        return _empty(columns)
    data: dict[str, list[Any]] = {}
    for column in columns:
        values = []
        for number, row in enumerate(rows):
            if column.name not in row and not column.nullable:
                raise MissingColumn(f"{side} record {number}: missing key {column.name!r}")
            values.append(row.get(column.name))
        data[column.name] = values
    # object first, so _conform sees the raw values and can reject floats and bad types.
    return _conform(pd.DataFrame(data, dtype=object), columns, side)


def _conform(frame: pd.DataFrame, columns: tuple[Column, ...], side: str) -> pd.DataFrame:
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise MissingColumn(f"{side} frame: missing column(s) {', '.join(map(repr, missing))}")
    out = {}
    for column in columns:
        series = frame[column.name]
        if column.dtype == INT:
            out[column.name] = _as_int64(series, column, side)
        else:
            out[column.name] = _as_text(series, column, side)
    return pd.DataFrame(out, index=frame.index)


def _null_error(series: pd.Series, column: Column, side: str) -> NullValue:
    label = series.isna().idxmax()
    return NullValue(f"{side} frame: column {column.name!r} is empty at row {label!r}")


def _is_numpy_object(dtype: object) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _as_int64(series: pd.Series, column: Column, side: str) -> pd.Series:
    dtype = series.dtype
    if dtype == np.int64:
        return series
    if is_integer_dtype(dtype):  # other widths, or nullable Int64
        if series.isna().any():
            raise _null_error(series, column, side)
        return series.astype(np.int64)
    if _is_numpy_object(dtype):
        if series.isna().any():
            raise _null_error(series, column, side)
        kind = infer_dtype(series, skipna=False)
        if kind in ("integer", "empty"):
            return series.astype(np.int64)
        raise WrongColumnType(
            f"{side} frame: column {column.name!r} must hold integers (minor units / unix "
            f"seconds), found {kind} values"
        )
    raise WrongColumnType(
        f"{side} frame: column {column.name!r} must be int64, got {dtype}"
        + (" (money is never float)" if dtype.kind == "f" else "")
    )


def _as_text(series: pd.Series, column: Column, side: str) -> pd.Series:
    if not is_string_dtype(series.dtype):
        raise WrongColumnType(
            f"{side} frame: column {column.name!r} must be text, got {series.dtype}"
        )
    if _is_numpy_object(series.dtype):
        kind = infer_dtype(series, skipna=True)
        if kind not in ("string", "empty"):
            raise WrongColumnType(
                f"{side} frame: column {column.name!r} must be text, found {kind} values"
            )
    if not column.nullable and series.isna().any():
        raise _null_error(series, column, side)
    if series.dtype == TEXT:
        return series
    return series.astype(TEXT)
