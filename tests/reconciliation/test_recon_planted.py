"""Each discrepancy kind planted alone, then all together: reported with the right kind,
and nothing else is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from recon_builders import WINDOW, base_rows, frames, mirror, mirrors, stripe_row

from reconciliation.classify import KINDS
from reconciliation.engine import reconcile
from reconciliation.result import ReconciliationResult

Rows = list[dict[str, Any]]
Plant = Callable[[Rows, Rows], tuple[str, str]]  # mutates; returns (kind, identifying id)


def _posting(ledger: Rows, txn: str) -> dict[str, Any]:
    return next(p for p in ledger if p["balance_transaction"] == txn)


def plant_missing_in_ledger(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    ledger.remove(_posting(ledger, "txn_c1"))
    return "missing_in_ledger", "txn_c1"


def plant_missing_in_stripe(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    ghost = stripe_row("txn_ghost", source="ch_ghost", amount=43_210, created=WINDOW.start + 999)
    ledger.append(mirror(ghost, 900))
    return "missing_in_stripe", "posting:900"


def plant_amount_mismatch(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    posting = _posting(ledger, "txn_c2")
    posting["amount"] -= 10_00
    posting["net"] -= 10_00
    return "amount_mismatch", "txn_c2"


def plant_fee_mismatch(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    posting = _posting(ledger, "txn_j1")  # JPY, zero-decimal
    posting["fee"] += 6
    posting["net"] -= 6
    return "fee_mismatch", "txn_j1"


def plant_currency_mismatch(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    _posting(ledger, "txn_k1")["currency"] = "bhd"  # KWD at Stripe, three-decimal both
    return "currency_mismatch", "txn_k1"


def plant_duplicate_in_ledger(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    ledger.append(dict(_posting(ledger, "txn_c3"), posting_id=901, posting_ref="posting:901"))
    return "duplicate_in_ledger", "txn_c3"


def plant_status_mismatch(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    payout = next(r for r in stripe if r["balance_transaction"] == "txn_p1")
    payout["source_status"] = "failed"
    stripe.append(
        stripe_row(
            "txn_pf1",
            type="payout_failure",
            source="po_1",
            amount=300_00,
            created=payout["created"] + 7200,
        )
    )  # the ledger still says paid and never booked the failure
    return "status_mismatch", "txn_p1"


def plant_unexpected_type(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    stripe.append(
        stripe_row(
            "txn_dp1",
            type="adjustment",
            category="dispute",
            source="du_1",
            amount=-20_00,
            fee=15_00,
            created=WINDOW.start + 13 * 3600,
        )
    )
    return "unexpected_type", "txn_dp1"


def plant_timing(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    late = stripe_row("txn_late", source="ch_late", amount=61_00, fee=2_00, created=WINDOW.end - 30)
    stripe.append(late)
    ledger.append(mirror(late, 902, occurred_at=WINDOW.end + 30))  # booked the next day
    return "timing", "txn_late"


def plant_probable_match(stripe: Rows, ledger: Rows) -> tuple[str, str]:
    row = stripe_row(
        "txn_pm", source="ch_pm", amount=77_77, fee=2_53, created=WINDOW.start + 50_000
    )
    stripe.append(row)
    ledger.append(
        mirror(row, 903, balance_transaction=None, source=None, occurred_at=row["created"] + 120)
    )
    return "probable_match", "txn_pm"


PLANTS: dict[str, Plant] = {
    "missing_in_ledger": plant_missing_in_ledger,
    "missing_in_stripe": plant_missing_in_stripe,
    "amount_mismatch": plant_amount_mismatch,
    "fee_mismatch": plant_fee_mismatch,
    "currency_mismatch": plant_currency_mismatch,
    "duplicate_in_ledger": plant_duplicate_in_ledger,
    "status_mismatch": plant_status_mismatch,
    "unexpected_type": plant_unexpected_type,
    "timing": plant_timing,
    "probable_match": plant_probable_match,
}


def found(result: ReconciliationResult) -> list[tuple[str, str]]:
    return sorted(
        (d.kind, d.stripe_balance_transaction or ",".join(d.ledger_refs))
        for d in result.discrepancies
    )


def run(plants: list[Plant]) -> tuple[ReconciliationResult, list[tuple[str, str]]]:
    stripe = base_rows()
    ledger = mirrors(stripe)
    expected = sorted(plant(stripe, ledger) for plant in plants)
    return reconcile(*frames(stripe, ledger), WINDOW), expected


def test_plants_cover_every_kind() -> None:
    assert set(PLANTS) == set(KINDS)


def test_clean_day_has_no_discrepancies() -> None:
    result, _ = run([])
    assert result.discrepancies == []
    assert result.is_clean
    assert result.counts.matched == result.counts.stripe_rows == result.counts.ledger_rows == 12
    assert {t.currency for t in result.totals} == {"jpy", "kwd", "usd"}
    assert all(t.difference_net == 0 for t in result.totals)


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_each_kind_planted_alone(kind: str) -> None:
    result, expected = run([PLANTS[kind]])
    assert found(result) == expected
    assert result.counts.discrepancies == 1


def test_all_kinds_planted_together() -> None:
    result, expected = run(list(PLANTS.values()))
    assert found(result) == expected
    assert len(result.discrepancies) == len(KINDS)
    # 12 base rows + late, pm, dp1, pf1 at Stripe; six base rows carry a plant.
    assert result.counts.stripe_rows == 16
    assert result.counts.matched == 12 - 6


def test_amounts_difference_and_explanations() -> None:
    result, _ = run(list(PLANTS.values()))
    by_kind = {d.kind: d for d in result.discrepancies}

    amount = by_kind["amount_mismatch"]
    assert (amount.stripe_amount, amount.ledger_amount, amount.difference) == (
        25_000,
        24_000,
        1_000,
    )
    assert amount.ledger_refs == ("posting:2",)
    assert "$250.00" in amount.explanation and "$240.00" in amount.explanation
    assert "$10.00" in amount.explanation and "txn_c2" in amount.explanation

    fee = by_kind["fee_mismatch"]
    assert (fee.currency, fee.stripe_fee, fee.ledger_fee, fee.difference) == ("jpy", 54, 60, -6)
    assert "¥1,500" in fee.explanation and "¥54" in fee.explanation and "¥60" in fee.explanation

    currency = by_kind["currency_mismatch"]
    assert (currency.currency, currency.ledger_currency, currency.difference) == (
        "kwd",
        "bhd",
        None,
    )
    assert "KWD 1.234" in currency.explanation and "BHD" in currency.explanation

    missing = by_kind["missing_in_ledger"]
    assert (missing.stripe_amount, missing.ledger_amount, missing.difference) == (1234, None, 1234)
    assert missing.ledger_refs == ()

    ghost = by_kind["missing_in_stripe"]
    assert (ghost.stripe_amount, ghost.ledger_amount, ghost.difference) == (None, 43_210, -43_210)
    assert ghost.stripe_source == "ch_ghost" and "$432.10" in ghost.explanation

    duplicate = by_kind["duplicate_in_ledger"]
    assert duplicate.ledger_refs == ("posting:3", "posting:901")
    assert duplicate.difference == -99_99 and "2 times" in duplicate.explanation

    status = by_kind["status_mismatch"]
    assert status.stripe_source == "po_1" and "failed" in status.explanation
    assert "paid" in status.explanation

    unexpected = by_kind["unexpected_type"]
    assert unexpected.stripe_type == "adjustment" and "dispute" in unexpected.explanation

    timing = by_kind["timing"]
    assert timing.difference == 0 and "different days" in timing.explanation
    assert "2026-03-10 23:59" in timing.explanation and "2026-03-11 00:00" in timing.explanation

    probable = by_kind["probable_match"]
    assert probable.matched_by == "amount_time" and probable.ledger_refs == ("posting:903",)
    assert "2 min apart" in probable.explanation

    for d in result.discrepancies:
        assert d.explanation.endswith(".") and d.explanation.count(". ") == 0
        assert len(d.fingerprint) == 32


def test_discrepancies_frame_and_json_shape() -> None:
    result, _ = run(list(PLANTS.values()))
    frame = result.discrepancies_frame()
    assert len(frame) == len(KINDS)
    assert str(frame["stripe_amount"].dtype) == "Int64"
    assert str(frame["occurred_at"].dtype) == "int64"
    record = result.discrepancies[0].to_dict()
    assert isinstance(record["ledger_refs"], list)
    assert {
        "kind",
        "currency",
        "stripe_balance_transaction",
        "stripe_source",
        "ledger_refs",
    } <= set(record)
    assert {"stripe_amount", "ledger_amount", "difference", "explanation", "fingerprint"} <= set(
        record
    )
