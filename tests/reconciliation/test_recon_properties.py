"""Properties: an exact mirror reconciles clean; k alterations give exactly k discrepancies
of the expected kinds, whatever the row order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from recon_builders import WINDOW, frames, mirror, stripe_row

from reconciliation.engine import reconcile

SIGNED_TYPES = {
    "charge": ("ch_", 1),
    "payment": ("py_", 1),
    "refund": ("re_", -1),
    "transfer": ("tr_", -1),
    "payout": ("po_", -1),
}
CURRENCIES = ["usd", "jpy", "kwd"]
ALTERATIONS = {
    "drop": "missing_in_ledger",
    "amount": "amount_mismatch",
    "fee": "fee_mismatch",
    "currency": "currency_mismatch",
    "duplicate": "duplicate_in_ledger",
    "late": "timing",
}


@st.composite
def stripe_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 30))
    rows = []
    for i in range(count):
        type_ = draw(st.sampled_from(sorted(SIGNED_TYPES)))
        prefix, sign = SIGNED_TYPES[type_]
        amount = draw(st.integers(1, 10**12))
        rows.append(
            stripe_row(
                f"txn_{i}",
                type=type_,
                source=f"{prefix}{i}",
                currency=draw(st.sampled_from(CURRENCIES)),
                amount=sign * amount,
                fee=draw(st.integers(0, amount)) if sign > 0 else 0,
                created=draw(st.integers(WINDOW.start, WINDOW.end - 1)),
                source_status="paid" if type_ == "payout" else None,
            )
        )
    return rows


@settings(max_examples=60, deadline=None)
@given(stripe_rows(), st.randoms(use_true_random=False))
def test_exact_mirror_reconciles_clean(rows: list[dict[str, Any]], random: Any) -> None:
    ledger = [mirror(row, i + 1) for i, row in enumerate(rows)]
    random.shuffle(ledger)
    result = reconcile(*frames(rows, ledger), WINDOW)
    assert result.discrepancies == []
    assert result.counts.matched == result.counts.stripe_rows == len(rows)
    assert all(t.difference_net == 0 for t in result.totals)


@settings(max_examples=80, deadline=None)
@given(stripe_rows(), st.data())
def test_k_alterations_give_exactly_k_discrepancies(rows: list[dict[str, Any]], data: Any) -> None:
    k = data.draw(st.integers(1, len(rows)))
    altered = data.draw(st.permutations(range(len(rows))))[:k]
    changes = {i: data.draw(st.sampled_from(sorted(ALTERATIONS))) for i in altered}
    ledger: list[dict[str, Any]] = []
    next_id = len(rows) + 1
    for i, row in enumerate(rows):
        change = changes.get(i)
        posting = mirror(row, i + 1)
        if change == "drop":
            continue
        if change == "amount":
            posting = mirror(row, i + 1, amount=row["amount"] + data.draw(st.sampled_from([-1, 7])))
        elif change == "fee":
            posting = mirror(row, i + 1, fee=row["fee"] + 1)
        elif change == "currency":
            others = [c for c in CURRENCIES if c != row["currency"]]
            posting = mirror(row, i + 1, currency=data.draw(st.sampled_from(others)))
        elif change == "duplicate":
            ledger.append(mirror(row, next_id))
            next_id += 1
        elif change == "late":
            posting = mirror(row, i + 1, occurred_at=WINDOW.end + data.draw(st.integers(0, 3600)))
        ledger.append(posting)

    result = reconcile(*frames(rows, ledger), WINDOW)
    expected = sorted((ALTERATIONS[change], f"txn_{i}") for i, change in changes.items())
    assert sorted((d.kind, d.stripe_balance_transaction) for d in result.discrepancies) == expected
    assert result.counts.matched == len(rows) - k
    assert len({d.fingerprint for d in result.discrepancies}) == k
