"""Parsing Stripe's itemized balance report CSV: good files and every bad-input error."""

from __future__ import annotations

import io

import pytest
from recon_builders import WINDOW, base_rows, frames, mirrors

from reconciliation.engine import reconcile
from reconciliation.errors import (
    DuplicateBalanceTransaction,
    InvalidReport,
    InvalidReportAmount,
    InvalidTimestamp,
    MissingReportColumn,
    MissingValue,
    RowOutsideWindow,
    UnknownReportCurrency,
)
from reconciliation.frames import STRIPE_DTYPES
from reconciliation.itemized_report import parse_itemized_report

HEADER = (
    "balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,"
    "gross,fee,net,reporting_category,source_id,description,customer_facing_amount,"
    "customer_facing_currency,automatic_payout_id,payment_metadata[load_id]"
)
GOOD_ROWS = [
    "txn_c1,2026-03-10 01:00:00,2026-03-10 01:00:00,2026-03-12 00:00:00,2026-03-12 00:00:00,"
    "usd,12.34,0.66,11.68,charge,ch_1,Load 881,12.34,usd,,L881",
    "txn_j1,2026-03-10 08:00:00,2026-03-10 08:00:00,2026-03-12 00:00:00,2026-03-12 00:00:00,"
    "jpy,1500,54,1446,charge,ch_j1,Load 882,1500,jpy,,L882",
    "txn_k2,2026-03-10 11:00:00,2026-03-10 11:00:00,2026-03-12 00:00:00,2026-03-12 00:00:00,"
    'kwd,-2.500,0.000,-2.500,refund,re_k2,"Refund, partial",,,,',
    "txn_py1,2026-03-10 12:00:00,2026-03-10 12:00:00,2026-03-20 00:00:00,2026-03-20 00:00:00,"
    "usd,75.00,0.60,74.40,charge,py_1,ACH,75.00,usd,,",
    "txn_dp1,2026-03-10 13:00:00,2026-03-10 13:00:00,2026-03-10 13:00:00,2026-03-10 13:00:00,"
    "usd,-20.00,15.00,-35.00,dispute,du_1,Dispute,,,,",
    "txn_p1,2026-03-10 06:00:00,2026-03-10 06:00:00,2026-03-10 06:00:00,2026-03-10 06:00:00,"
    "usd,-300.00,0.00,-300.00,payout,po_1,,,,,",
]


def csv(rows: list[str], header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def with_cell(row: int, column: str, value: str) -> str:
    """GOOD_ROWS with one cell replaced; `row` counts data rows from 0."""
    names = HEADER.split(",")
    rows = list(GOOD_ROWS)
    cells = rows[row].split(",")
    cells[names.index(column)] = value
    rows[row] = ",".join(cells)
    return csv(rows)


def test_good_report_becomes_the_stripe_frame() -> None:
    frame = parse_itemized_report(csv(GOOD_ROWS), WINDOW)
    assert {n: str(t) for n, t in frame.dtypes.items()} == STRIPE_DTYPES
    by_id = frame.set_index("balance_transaction")
    assert by_id.loc["txn_c1", ["amount", "fee", "net"]].tolist() == [1234, 66, 1168]
    assert by_id.loc["txn_j1", ["amount", "fee", "net"]].tolist() == [1500, 54, 1446]
    assert by_id.loc["txn_k2", ["amount", "fee", "net"]].tolist() == [-2500, 0, -2500]
    assert by_id.loc["txn_c1", "created"] == WINDOW.start + 3600
    assert by_id.loc["txn_py1", "type"] == "payment"
    assert by_id.loc["txn_dp1", "type"] == "adjustment"
    assert by_id.loc["txn_dp1", "reporting_category"] == "dispute"
    assert by_id.loc["txn_p1", "type"] == "payout"
    assert set(frame["account"]) == {"platform"} and set(frame["status"]) == {"unknown"}
    assert frame["source_status"].isna().all()


def test_report_reconciles_against_the_ledger() -> None:
    stripe = parse_itemized_report(io.StringIO(csv(GOOD_ROWS)), WINDOW)
    wanted = {"txn_c1", "txn_j1", "txn_k2", "txn_py1", "txn_p1"}
    ledger = [p for p in mirrors(base_rows()) if p["balance_transaction"] in wanted]
    for posting in ledger:
        posting["status"] = None
    result = reconcile(stripe, frames([], ledger)[1], WINDOW)
    assert [(d.kind, d.stripe_balance_transaction) for d in result.discrepancies] == [
        ("unexpected_type", "txn_dp1")
    ]


def test_status_from_available_on_when_as_of_is_given() -> None:
    frame = parse_itemized_report(csv(GOOD_ROWS), WINDOW, as_of=WINDOW.end)
    status = dict(zip(frame["balance_transaction"], frame["status"], strict=True))
    assert status["txn_dp1"] == "available" and status["txn_c1"] == "pending"


def test_connected_account_variant_takes_the_account_from_each_row() -> None:
    header = HEADER + ",connected_account,connected_account_name"
    rows = [GOOD_ROWS[0] + ",acct_1Carrier,Acme Freight", GOOD_ROWS[1] + ",acct_2Carrier,Bolt"]
    frame = parse_itemized_report(csv(rows, header), WINDOW)
    assert frame["account"].tolist() == ["acct_1Carrier", "acct_2Carrier"]


def test_header_only_report_is_an_empty_frame() -> None:
    frame = parse_itemized_report(csv([]), WINDOW)
    assert len(frame) == 0 and {n: str(t) for n, t in frame.dtypes.items()} == STRIPE_DTYPES


def test_renamed_column_is_named() -> None:
    text = csv(GOOD_ROWS, HEADER.replace("gross,", "amount,"))
    with pytest.raises(MissingReportColumn, match=r"row 1 \(header\).*'gross'.*'amount'"):
        parse_itemized_report(text, WINDOW)


@pytest.mark.parametrize(
    ("row", "column", "value", "error", "message"),
    [
        (1, "gross", "12.3x", InvalidReportAmount, "row 3, column 'gross'.*'12.3x'.*not a decimal"),
        (0, "fee", "", MissingValue, "row 2, column 'fee'.*empty"),
        (1, "gross", "1500.5", InvalidReportAmount, "row 3, column 'gross'.*more decimals"),
        (0, "net", "11.681", InvalidReportAmount, "row 2, column 'net'.*more decimals"),
        (2, "gross", "-2.5001", InvalidReportAmount, "row 4, column 'gross'.*more decimals"),
        (3, "net", "74.41", InvalidReportAmount, "row 5, column 'net'.*not gross minus fee"),
        (4, "currency", "usdd", UnknownReportCurrency, "row 6, column 'currency'.*'usdd'"),
        (5, "created_utc", "2026-03-10T06:00", InvalidTimestamp, "row 7, column 'created_utc'"),
        (0, "created_utc", "2026-03-11 00:00:00", RowOutsideWindow, "row 2, column 'created_utc'"),
        (5, "created_utc", "2026-03-09 23:59:59", RowOutsideWindow, "row 7.*outside.*2026-03-10"),
        (3, "balance_transaction_id", "txn_c1", DuplicateBalanceTransaction, "row 5, column"),
        (2, "reporting_category", "", MissingValue, "row 4, column 'reporting_category'"),
    ],
)
def test_bad_cell_names_row_and_column(
    row: int, column: str, value: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_itemized_report(with_cell(row, column, value), WINDOW)


def test_every_report_error_is_an_invalid_report() -> None:
    with pytest.raises(InvalidReport):
        parse_itemized_report(with_cell(0, "currency", "zzz"), WINDOW)


def test_without_a_window_any_date_is_accepted() -> None:
    frame = parse_itemized_report(with_cell(0, "created_utc", "2020-01-01 00:00:00"))
    assert frame["created"].min() == 1_577_836_800


def test_comma_decimal_separator() -> None:
    rows = ['txn_1,2026-03-10 01:00:00,,,,eur,"12,34","0,34","12,00",charge,ch_1,,,,,']
    frame = parse_itemized_report(csv(rows), WINDOW, decimal_separator=",")
    assert frame[["amount", "fee", "net"]].iloc[0].tolist() == [1234, 34, 1200]
