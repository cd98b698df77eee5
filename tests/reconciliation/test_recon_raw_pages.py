"""Raw JSON list pages of balance transactions into the STRIPE frame."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciliation.errors import InvalidPage
from reconciliation.frames import STRIPE_DTYPES
from reconciliation.raw_pages import Page, frame_from_pages


def txn(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": f"txn_{i}",
        "object": "balance_transaction",
        "amount": 1000 + i,
        "available_on": 1_773_200_000,
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
    row.update(changes)
    return row


def page(rows: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": rows, "has_more": has_more, "url": "/v1/balance_transactions"}


def test_pages_as_dicts_bytes_and_text() -> None:
    pages: list[Page] = [
        page([txn(0), txn(1)], True),
        json.dumps(page([txn(2)])).encode(),
        json.dumps(page([])),
    ]
    frame = frame_from_pages(pages, account="acct_1Carrier")
    assert {n: str(t) for n, t in frame.dtypes.items()} == STRIPE_DTYPES
    assert frame["balance_transaction"].tolist() == ["txn_0", "txn_1", "txn_2"]
    assert frame["amount"].tolist() == [1000, 1001, 1002]
    assert frame["net"].tolist() == [941, 942, 943]
    assert set(frame["account"]) == {"acct_1Carrier"}
    assert frame["source_status"].isna().all()


def test_stripe_fixture_balance_transaction_parses() -> None:
    from pathlib import Path

    # Stripe's own example, vendored beside the simulator's tests.
    fixture = Path(__file__).parents[1] / "stripe_sim" / "stripe_fixtures.json"
    example = json.loads(fixture.read_text())["resources"]["balance_transaction"]
    frame = frame_from_pages([page([example])], account="platform")
    assert frame.iloc[0]["balance_transaction"] == example["id"]
    assert frame.iloc[0]["source"] == example["source"]


def test_expanded_payout_source_gives_its_status() -> None:
    payout = txn(5, type="payout", reporting_category="payout", amount=-500, fee=0, net=-500)
    payout["source"] = {"id": "po_5", "object": "payout", "status": "failed"}
    charge = txn(6)
    charge["source"] = {"id": "ch_6", "object": "charge", "status": "succeeded"}
    frame = frame_from_pages([page([payout, charge, txn(7, source=None)])], account="platform")
    assert frame["source"].tolist()[:2] == ["po_5", "ch_6"]
    assert frame["source"].isna().tolist() == [False, False, True]
    assert frame["source_status"].tolist()[0] == "failed"
    assert frame["source_status"].isna().tolist() == [False, True, True]


def test_no_pages_is_an_empty_frame() -> None:
    assert len(frame_from_pages([], account="platform")) == 0


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([b"{not json"], "page 0: not JSON"),
        ([{"object": "balance_transaction"}], "page 0: not a Stripe list"),
        ([page([txn(0)]), {"object": "list", "data": None}], "page 1: field 'data'"),
        ([page([{"object": "charge", "id": "ch_1"}])], "expected balance_transaction"),
        (
            [page([txn(0), {k: v for k, v in txn(1).items() if k != "currency"}])],
            "row 1.*'currency'",
        ),
        ([page([txn(0, amount=10.5)])], "row 0 \\(txn_0\\): field 'amount' must be an integer"),
    ],
)
def test_bad_pages_are_named(pages: list[Any], message: str) -> None:
    with pytest.raises(InvalidPage, match=message):
        frame_from_pages(pages, account="platform")


def test_many_pages_parse_into_one_frame_in_order() -> None:
    """Two hundred pages at once (the parse rate is measured by bench/recon.py and
    bench/recon_core_bench.py, not asserted here: a timed test fails on a loaded machine)."""
    rows = 20_000
    pages = [
        json.dumps(page([txn(i) for i in range(s, s + 100)])).encode() for s in range(0, rows, 100)
    ]
    frame = frame_from_pages(pages, account="platform")
    assert len(frame) == rows and frame["balance_transaction"].is_unique
    expected = frame_from_pages([page([txn(0), txn(rows - 1)])], account="platform")
    assert frame.iloc[[0, -1]].reset_index(drop=True).equals(expected)
