"""The frame contracts: builders, empty frames and validators naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from recon_builders import base_rows, mirrors

from reconciliation.errors import MissingColumn, NullValue, WrongColumnType
from reconciliation.frames import (
    LEDGER_DTYPES,
    STRIPE_DTYPES,
    empty_ledger_frame,
    empty_stripe_frame,
    ledger_frame,
    stripe_frame,
    validate_ledger_frame,
    validate_stripe_frame,
)


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_empty_frames_have_the_contract_dtypes() -> None:
    assert _dtypes(empty_stripe_frame()) == STRIPE_DTYPES
    assert _dtypes(empty_ledger_frame()) == LEDGER_DTYPES
    assert STRIPE_DTYPES["amount"] == "int64" and STRIPE_DTYPES["source"] == "str"


def test_builders_give_the_contract_dtypes_and_nulls() -> None:
    stripe = stripe_frame(base_rows())
    ledger = ledger_frame(mirrors(base_rows()))
    assert _dtypes(stripe) == STRIPE_DTYPES
    assert _dtypes(ledger) == LEDGER_DTYPES
    assert stripe["source_status"].isna().sum() == 11
    assert ledger["payment_intent"].isna().all()


def test_validator_accepts_object_text_and_other_int_widths() -> None:
    stripe = stripe_frame(base_rows())
    loose = stripe.astype({"type": object, "fee": np.int32, "net": "Int64"})
    assert _dtypes(validate_stripe_frame(loose)) == STRIPE_DTYPES


def test_missing_column_is_named() -> None:
    stripe = stripe_frame(base_rows()).rename(columns={"fee": "fees"})
    with pytest.raises(MissingColumn, match="'fee'"):
        validate_stripe_frame(stripe)


def test_float_money_is_rejected_even_when_whole() -> None:
    ledger = ledger_frame(mirrors(base_rows())).astype({"net": "float64"})
    with pytest.raises(WrongColumnType, match="'net'.*never float"):
        validate_ledger_frame(ledger)


def test_text_in_an_int_column_is_rejected() -> None:
    rows = base_rows()
    rows[2]["amount"] = "12.34"
    with pytest.raises(WrongColumnType, match="'amount'"):
        stripe_frame(rows)


def test_null_in_a_required_column_names_column_and_row() -> None:
    rows = mirrors(base_rows())
    rows[3]["currency"] = None
    with pytest.raises(NullValue, match="'currency' is empty at row 3"):
        ledger_frame(rows)
    rows = mirrors(base_rows())
    rows[4]["amount"] = None
    with pytest.raises(NullValue, match="'amount' is empty at row 4"):
        ledger_frame(rows)


def test_missing_record_key_is_named() -> None:
    rows = base_rows()
    del rows[1]["created"]
    with pytest.raises(MissingColumn, match="record 1.*'created'"):
        stripe_frame(rows)


def test_numbers_in_a_text_column_are_rejected() -> None:
    rows = base_rows()
    rows[0]["currency"] = 840
    with pytest.raises(WrongColumnType, match="'currency'"):
        stripe_frame(rows)
