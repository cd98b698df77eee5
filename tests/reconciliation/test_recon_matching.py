"""Matching details: one-to-many, many-to-one, source matching, payouts, windows, margins."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from recon_builders import WINDOW, base_rows, frames, mirror, mirrors, stripe_row

from reconciliation.engine import reconcile
from reconciliation.errors import DuplicateBalanceTransaction, WrongColumnType
from reconciliation.frames import empty_ledger_frame, empty_stripe_frame
from reconciliation.result import ReconciliationResult
from reconciliation.window import DayWindow, day


def kinds(result: ReconciliationResult) -> list[str]:
    return sorted(d.kind for d in result.discrepancies)


def test_one_stripe_row_split_over_postings_by_id_is_a_match() -> None:
    charge = stripe_row("txn_1", source="ch_1", amount=1000, fee=40)
    ledger = [
        mirror(charge, 1, amount=600, fee=40),
        mirror(charge, 2, amount=400, fee=0),
    ]
    result = reconcile(*frames([charge], ledger), WINDOW)
    assert result.is_clean
    assert result.counts.matched == 1
    assert sorted(result.matched["posting_ref"]) == ["posting:1", "posting:2"]
    assert set(result.matched["matched_by"]) == {"balance_transaction"}


def test_split_where_one_posting_has_only_the_source_id_is_a_match() -> None:
    charge = stripe_row("txn_1", source="ch_1", amount=1000)
    ledger = [
        mirror(charge, 1, amount=700),
        mirror(charge, 2, amount=300, balance_transaction=None),
    ]
    assert reconcile(*frames([charge], ledger), WINDOW).is_clean


def test_full_copy_with_only_the_source_id_is_a_duplicate() -> None:
    charge = stripe_row("txn_1", source="ch_1", amount=1000)
    ledger = [mirror(charge, 1), mirror(charge, 2, balance_transaction=None)]
    result = reconcile(*frames([charge], ledger), WINDOW)
    assert kinds(result) == ["duplicate_in_ledger"]
    assert result.discrepancies[0].ledger_refs == ("posting:1", "posting:2")


def test_split_that_does_not_add_up_is_an_amount_mismatch() -> None:
    charge = stripe_row("txn_1", source="ch_1", amount=1000)
    ledger = [mirror(charge, 1, amount=600), mirror(charge, 2, amount=300)]
    result = reconcile(*frames([charge], ledger), WINDOW)
    assert kinds(result) == ["amount_mismatch"]
    assert result.discrepancies[0].difference == 100


def test_many_stripe_rows_against_one_posting_by_source() -> None:
    first = stripe_row("txn_a", source="ch_m", amount=600, fee=20)
    second = stripe_row("txn_b", source="ch_m", amount=400, fee=10, created=WINDOW.start + 7200)
    posting = mirror(first, 1, balance_transaction=None, amount=1000, fee=30)
    result = reconcile(*frames([first, second], [posting]), WINDOW)
    assert result.is_clean
    assert result.counts.matched == 2
    assert sorted(result.matched["balance_transaction"]) == ["txn_a", "txn_b"]
    assert set(result.matched["matched_by"]) == {"source"}


def test_many_to_one_that_does_not_add_up_names_every_stripe_id() -> None:
    first = stripe_row("txn_a", source="ch_m", amount=600)
    second = stripe_row("txn_b", source="ch_m", amount=400)
    posting = mirror(first, 1, balance_transaction=None, amount=900)
    result = reconcile(*frames([first, second], [posting]), WINDOW)
    assert kinds(result) == ["amount_mismatch"]
    assert result.discrepancies[0].stripe_balance_transaction == "txn_a, txn_b"


def test_source_match_treats_payment_and_charge_as_one_family() -> None:
    payment = stripe_row("txn_1", type="payment", source="py_1", amount=5000)
    posting = mirror(payment, 1, balance_transaction=None, type="charge")
    assert reconcile(*frames([payment], [posting]), WINDOW).is_clean


def test_payout_and_its_failure_share_a_source_but_do_not_cross_match() -> None:
    payout = stripe_row("txn_p", type="payout", source="po_9", amount=-500, source_status="failed")
    failure = stripe_row("txn_pf", type="payout_failure", source="po_9", amount=500)
    ledger = [
        mirror(payout, 1, balance_transaction=None, status="failed"),
        mirror(failure, 2, balance_transaction=None),
    ]
    result = reconcile(*frames([payout, failure], ledger), WINDOW)
    assert result.is_clean
    pairs = dict(
        zip(result.matched["balance_transaction"], result.matched["posting_ref"], strict=True)
    )
    assert pairs == {"txn_p": "posting:1", "txn_pf": "posting:2"}


def test_failed_payout_whose_failure_the_ledger_booked_is_not_a_status_mismatch() -> None:
    payout = stripe_row("txn_p", type="payout", source="po_9", amount=-500, source_status="failed")
    failure = stripe_row("txn_pf", type="payout_failure", source="po_9", amount=500)
    ledger = [mirror(payout, 1, status="paid"), mirror(failure, 2)]
    assert reconcile(*frames([payout, failure], ledger), WINDOW).is_clean


def test_payout_failure_row_alone_marks_the_payout_failed() -> None:
    payout = stripe_row("txn_p", type="payout", source="po_9", amount=-500)  # status unknown
    failure = stripe_row("txn_pf", type="payout_failure", source="po_9", amount=500)
    result = reconcile(*frames([payout, failure], [mirror(payout, 1, status="paid")]), WINDOW)
    assert kinds(result) == ["status_mismatch"]  # the failure row is folded into it
    assert "as failed" in result.discrepancies[0].explanation


def test_payout_paid_at_stripe_but_failed_in_the_ledger() -> None:
    payout = stripe_row("txn_p", type="payout", source="po_9", amount=-500, source_status="paid")
    result = reconcile(*frames([payout], [mirror(payout, 1, status="failed")]), WINDOW)
    assert kinds(result) == ["status_mismatch"]


def test_pending_payout_is_not_a_status_mismatch() -> None:
    payout = stripe_row(
        "txn_p", type="payout", source="po_9", amount=-500, source_status="in_transit"
    )
    assert reconcile(*frames([payout], [mirror(payout, 1, status="paid")]), WINDOW).is_clean


def test_timing_when_stripe_is_on_the_previous_day() -> None:
    early = stripe_row("txn_e", source="ch_e", amount=100, created=WINDOW.start - 30)
    result = reconcile(*frames([early], [mirror(early, 1, occurred_at=WINDOW.start + 30)]), WINDOW)
    assert kinds(result) == ["timing"]
    assert result.counts.stripe_rows == 0 and result.counts.ledger_rows == 1


def test_rows_outside_the_window_on_both_sides_are_ignored() -> None:
    before = stripe_row("txn_b", source="ch_b", amount=100, created=WINDOW.start - 10)
    after = stripe_row("txn_a", source="ch_a", amount=200, created=WINDOW.end)
    unmatched_posting = mirror(stripe_row("txn_x", amount=300, created=WINDOW.end + 5), 9)
    ledger = [mirror(before, 1), mirror(after, 2, amount=999), unmatched_posting]
    result = reconcile(*frames([before, after], ledger), WINDOW)
    assert result.is_clean
    assert result.counts.stripe_rows == result.counts.ledger_rows == 0
    assert result.totals == []


def test_margin_drops_rows_far_from_the_window() -> None:
    early = stripe_row("txn_e", source="ch_e", amount=100, created=WINDOW.start - 10 * 86400)
    posting = mirror(early, 1, occurred_at=WINDOW.start + 30)
    assert kinds(reconcile(*frames([early], [posting]), WINDOW)) == ["timing"]
    # A row the posting claims by balance transaction id stays however far: that is timing.
    assert kinds(reconcile(*frames([early], [posting]), WINDOW, margin_s=86400)) == ["timing"]
    by_source = mirror(early, 1, occurred_at=WINDOW.start + 30, balance_transaction=None)
    narrow = reconcile(*frames([early], [by_source]), WINDOW, margin_s=86400)
    assert kinds(narrow) == ["missing_in_stripe"]


def test_probable_match_takes_the_closest_in_time_one_to_one() -> None:
    near = stripe_row("txn_near", amount=500, created=WINDOW.start + 1000)
    far = stripe_row("txn_far", amount=500, created=WINDOW.start + 5000)
    posting = mirror(
        near, 1, balance_transaction=None, source=None, occurred_at=WINDOW.start + 1100
    )
    result = reconcile(*frames([near, far], [posting]), WINDOW)
    assert kinds(result) == ["missing_in_ledger", "probable_match"]
    probable = next(d for d in result.discrepancies if d.kind == "probable_match")
    assert probable.stripe_balance_transaction == "txn_near"


def test_probable_match_respects_its_time_window() -> None:
    row = stripe_row("txn_1", amount=500, created=WINDOW.start + 1000)
    posting = mirror(row, 1, balance_transaction=None, source=None, occurred_at=WINDOW.start + 9000)
    result = reconcile(*frames([row], [posting]), WINDOW, probable_window_s=3600)
    assert kinds(result) == ["missing_in_ledger", "missing_in_stripe"]


def test_unexpected_types_never_probable_match() -> None:
    dispute = stripe_row("txn_d", type="adjustment", category="dispute", source="du_1", amount=-500)
    posting = mirror(dispute, 1, balance_transaction=None, source=None, type="refund")
    result = reconcile(*frames([dispute], [posting]), WINDOW)
    assert kinds(result) == ["missing_in_stripe", "unexpected_type"]


def test_adjustment_finance_booked_with_its_ids_is_a_match() -> None:
    dispute = stripe_row("txn_d", type="adjustment", category="dispute", source="du_1", amount=-500)
    assert reconcile(*frames([dispute], [mirror(dispute, 1)]), WINDOW).is_clean


def test_ledger_types_decide_what_is_unexpected() -> None:
    fee = stripe_row("txn_f", type="application_fee", source="fee_1", amount=100)
    # We book no application fees (carriers are paid by transfer): Stripe charging one is news.
    assert kinds(reconcile(*frames([fee], []), WINDOW)) == ["unexpected_type"]
    with_fee_rule = reconcile(*frames([fee], []), WINDOW, ledger_types={"application_fee"})
    assert kinds(with_fee_rule) == ["missing_in_ledger"]


def test_totals_per_currency_with_differences() -> None:
    stripe = base_rows()
    ledger = mirrors(stripe)
    ledger[0]["amount"] += 1  # usd charge txn_c1, net follows
    ledger[0]["net"] += 1
    result = reconcile(*frames(stripe, ledger), WINDOW)
    totals = {t.currency: t for t in result.totals}
    usd = totals["usd"]
    assert usd.stripe_net - usd.ledger_net == usd.difference_net == -1
    jpy = totals["jpy"]
    assert (jpy.stripe_amount, jpy.stripe_fee, jpy.stripe_net) == (83_500, 2_954, 80_546)
    assert jpy.difference_net == 0
    kwd = totals["kwd"]
    assert (kwd.ledger_amount, kwd.ledger_fee, kwd.ledger_net) == (-1_266, 40, -1_306)
    assert all(isinstance(getattr(usd, f), int) for f in ("stripe_amount", "ledger_net"))


def test_fingerprint_is_stable_across_reruns_and_tracks_amounts() -> None:
    stripe = base_rows()
    ledger = mirrors(stripe)
    ledger[1]["amount"] -= 100
    first = reconcile(*frames(stripe, ledger), WINDOW).discrepancies[0]
    extra = stripe_row("txn_new", source="ch_new", amount=1, created=WINDOW.start + 60)
    rerun = reconcile(*frames([*stripe, extra], [*ledger, mirror(extra, 99)]), WINDOW)
    assert rerun.discrepancies[0].fingerprint == first.fingerprint
    ledger[1]["amount"] -= 100
    changed = reconcile(*frames(stripe, ledger), WINDOW).discrepancies[0]
    assert changed.fingerprint != first.fingerprint


def test_matched_frame_lists_every_pair_with_its_kind() -> None:
    stripe = base_rows()
    ledger = mirrors(stripe)
    ledger[1]["fee"] += 1
    matched = reconcile(*frames(stripe, ledger), WINDOW).matched
    assert list(matched.columns) == [
        "balance_transaction",
        "posting_id",
        "posting_ref",
        "matched_by",
        "kind",
    ]
    assert len(matched) == 12
    assert str(matched["posting_id"].dtype) == "int64"
    kinds_by_txn = dict(zip(matched["balance_transaction"], matched["kind"], strict=True))
    assert kinds_by_txn["txn_c2"] == "fee_mismatch" and kinds_by_txn["txn_c1"] == ""


def test_empty_frames_reconcile_clean() -> None:
    result = reconcile(empty_stripe_frame(), empty_ledger_frame(), (WINDOW.start, WINDOW.end))
    assert result.is_clean and result.totals == [] and len(result.matched) == 0
    assert isinstance(result.window, DayWindow)


def test_reconcile_rejects_float_money() -> None:
    stripe, ledger = frames(base_rows(), [])
    stripe["amount"] = stripe["amount"].astype("float64")
    with pytest.raises(WrongColumnType, match="'amount'.*float"):
        reconcile(stripe, ledger, WINDOW)


def test_reconcile_rejects_a_stripe_id_listed_twice() -> None:
    rows = base_rows()
    stripe = pd.concat([frames(rows, [])[0]] * 2, ignore_index=True)
    with pytest.raises(DuplicateBalanceTransaction, match="txn_c1"):
        reconcile(stripe, frames([], [])[1], WINDOW)


def test_dst_day_in_new_york_uses_local_midnights() -> None:
    window = day("2026-03-08", "America/New_York")  # 23 hours: spring forward
    utc = dt.UTC
    late_evening = int(dt.datetime(2026, 3, 9, 3, 30, tzinfo=utc).timestamp())  # 23:30 EDT
    after_midnight = int(dt.datetime(2026, 3, 9, 4, 30, tzinfo=utc).timestamp())  # 00:30 EDT
    before_start = int(dt.datetime(2026, 3, 8, 4, 59, tzinfo=utc).timestamp())  # 23:59 EST
    inside = stripe_row("txn_in", source="ch_in", amount=100, created=late_evening)
    outside = stripe_row("txn_out", source="ch_out", amount=200, created=after_midnight)
    previous = stripe_row("txn_prev", source="ch_prev", amount=300, created=before_start)
    ledger = [
        mirror(inside, 1, occurred_at=after_midnight),  # booked on the next local day
        mirror(outside, 2),
        mirror(previous, 3),
    ]
    result = reconcile(*frames([inside, outside, previous], ledger), window)
    assert kinds(result) == ["timing"]
    assert result.counts.stripe_rows == 1 and result.counts.ledger_rows == 0
    explanation = result.discrepancies[0].explanation
    assert "2026-03-08 23:30 EDT" in explanation and "2026-03-09 00:30 EDT" in explanation


def test_same_rows_fall_in_different_days_in_another_zone() -> None:
    created = int(dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC).timestamp())
    row = stripe_row("txn_1", source="ch_1", amount=100, created=created)
    stripe, ledger = frames([row], [])
    assert kinds(reconcile(stripe, ledger, day("2026-03-10", "UTC"))) == ["missing_in_ledger"]
    assert kinds(reconcile(stripe, ledger, day("2026-03-11", "Asia/Tokyo"))) == [
        "missing_in_ledger"
    ]
    assert reconcile(stripe, ledger, day("2026-03-10", "Asia/Tokyo")).is_clean  # not that day
