"""A probable match (amount and time only) never hides an error of another kind."""

from __future__ import annotations

from collections import Counter

from recon_builders import WINDOW, frames, mirror, stripe_row

from reconciliation.engine import reconcile


def test_a_posting_claiming_a_balance_transaction_stripe_lacks_is_never_a_probable_match() -> None:
    """An unbooked $150 charge at Stripe and a posting that claims an id Stripe does not have
    are two errors, not one probable match."""
    unbooked = stripe_row("txn_real", source="ch_real", amount=150_00, fee=4_65)
    claimed = mirror(
        unbooked,
        1,
        balance_transaction="txn_fake",
        source=None,
        occurred_at=unbooked["created"] + 60,
    )
    result = reconcile(*frames([unbooked], [claimed]), WINDOW)
    kinds = Counter(d.kind for d in result.discrepancies)
    assert kinds == Counter({"missing_in_ledger": 1, "missing_in_stripe": 1})
    missing = next(d for d in result.discrepancies if d.kind == "missing_in_stripe")
    assert "txn_fake" in missing.explanation
    assert not any("record the Stripe ids" in d.explanation for d in result.discrepancies)


def test_a_posting_claiming_a_source_stripe_lacks_is_never_a_probable_match() -> None:
    unbooked = stripe_row("txn_real", source="ch_real", amount=150_00)
    claimed = mirror(unbooked, 1, balance_transaction=None, source="ch_other")
    kinds = sorted(d.kind for d in reconcile(*frames([unbooked], [claimed]), WINDOW).discrepancies)
    assert kinds == ["missing_in_ledger", "missing_in_stripe"]


def test_a_probable_match_needs_the_same_fee_and_type_family() -> None:
    charge = stripe_row("txn_c", source="ch_c", amount=150_00, fee=4_65)
    other_fee = mirror(charge, 1, balance_transaction=None, source=None, fee=0)
    payout = stripe_row("txn_p", type="payout", source="po_1", amount=-90_00)
    as_transfer = mirror(payout, 2, balance_transaction=None, source=None, type="transfer")
    result = reconcile(*frames([charge, payout], [other_fee, as_transfer]), WINDOW)
    kinds = Counter(d.kind for d in result.discrepancies)
    assert kinds == Counter({"missing_in_ledger": 2, "missing_in_stripe": 2})


def test_probable_match_advice_does_not_ask_finance_to_bury_an_error() -> None:
    charge = stripe_row("txn_c", source="ch_c", amount=77_00, fee=2_53)
    by_hand = mirror(
        charge, 1, balance_transaction=None, source=None, occurred_at=charge["created"] + 120
    )
    (probable,) = reconcile(*frames([charge], [by_hand]), WINDOW).discrepancies
    assert probable.kind == "probable_match"
    assert "2 min apart" in probable.explanation
    assert (
        "unbooked" in probable.explanation and "record the Stripe ids" not in probable.explanation
    )
