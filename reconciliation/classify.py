"""Classification: one kind per match group or left-over row, with these rules (first wins).

Only groups and rows that touch the window count: a group whose rows all lie outside
[start, end) on both sides is ignored, and so is an unmatched row outside the window.

For a matched group (Stripe rows S, ledger postings L):
  probable_match       matched only by amount + currency + time (pass 3)
  currency_mismatch    the ids match but S and L are not all in one currency
  duplicate_in_ledger  two or more postings each mirror S in full (and their sum is off)
  amount_mismatch      gross of S differs from the sum over L
  fee_mismatch         gross equal, fee (or net) differs
  status_mismatch      a payout failed/was canceled at Stripe (its source_status, or a
                       payout_failure/payout_cancel row for the same po_) while the ledger says
                       paid and holds no failure posting for it; or paid at Stripe, failed in
                       the ledger
  timing               all equal, but one side is inside the window and the other outside
  (clean)              otherwise: a match
For a left-over Stripe row inside the window:
  unexpected_type      its type has no ledger rule (not in `ledger_types`: adjustment, dispute,
                       stripe_fee, …) — activity we did not initiate
  missing_in_ledger    otherwise; except that a payout_failure/payout_cancel row of a payout
                       already reported as status_mismatch is folded into that discrepancy
For a left-over posting inside the window:
  missing_in_stripe
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.reconciliation import DISCREPANCY_KINDS
from reconciliation.matcher import PASS_PROBABLE, UNMATCHED, Grouping
from reconciliation.rules import (
    FAILED_PAYOUT_STATUSES,
    PAID_STATUS,
    PAYOUT_REVERSAL_TYPES,
    PAYOUT_TYPES,
)

KINDS: tuple[str, ...] = DISCREPANCY_KINDS
CLEAN = ""


@dataclass(frozen=True)
class Classification:
    """Group ids per row (left-overs given ids of their own) and the kind of every group."""

    stripe_group: np.ndarray
    ledger_group: np.ndarray
    group_kind: np.ndarray  # str per group id: a KINDS member, or CLEAN
    group_pass: np.ndarray  # matcher PASS_* per group id; 0 for left-over groups
    matched_stripe_rows: int  # in-window Stripe rows in clean groups

    def discrepant_groups(self) -> np.ndarray:
        return np.flatnonzero(self.group_kind != CLEAN)


def _sum_by(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact int64 sums per group (bincount would go through float64)."""
    out = np.zeros(size, dtype=np.int64)
    keep = groups >= 0
    np.add.at(out, groups[keep], values[keep])
    return out


def _count_by(groups: np.ndarray, mask: np.ndarray | None, size: int) -> np.ndarray:
    keep = groups >= 0 if mask is None else (groups >= 0) & mask
    return np.bincount(groups[keep], minlength=size)


def _extreme_by(groups: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(size, -1, dtype=np.int64)
    keep = groups >= 0
    np.minimum.at(low, groups[keep], values[keep])
    np.maximum.at(high, groups[keep], values[keep])
    return low, high


def classify(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    grouping: Grouping,
    *,
    stripe_in_window: np.ndarray,
    ledger_in_window: np.ndarray,
    ledger_types: Collection[str],
) -> Classification:
    """Give every matched group and every in-window left-over row its kind."""
    size = grouping.n_groups
    s_group, l_group = grouping.stripe_group, grouping.ledger_group

    s_count = _count_by(s_group, None, size)
    l_count = _count_by(l_group, None, size)
    s_inside = _count_by(s_group, stripe_in_window, size) > 0
    l_inside = _count_by(l_group, ledger_in_window, size) > 0
    relevant = (s_count > 0) & (l_count > 0) & (s_inside | l_inside)

    s_amount = _sum_by(s_group, stripe["amount"].to_numpy(), size)
    l_amount = _sum_by(l_group, ledger["amount"].to_numpy(), size)
    amount_off = s_amount != l_amount
    # Gross equal but net not: the fee differs (or one side's net is not gross - fee).
    fee_off = (
        _sum_by(s_group, stripe["fee"].to_numpy(), size)
        != _sum_by(l_group, ledger["fee"].to_numpy(), size)
    ) | (
        _sum_by(s_group, stripe["net"].to_numpy(), size)
        != _sum_by(l_group, ledger["net"].to_numpy(), size)
    )

    currency_codes, _ = pd.factorize(
        np.concatenate([stripe["currency"].to_numpy(), ledger["currency"].to_numpy()])
    )
    s_low, s_high = _extreme_by(s_group, currency_codes[: len(stripe)], size)
    l_low, l_high = _extreme_by(l_group, currency_codes[len(stripe) :], size)
    currency_off = (s_low != s_high) | (l_low != l_high) | (s_low != l_low)

    # A posting is a full copy when it alone carries the whole Stripe gross of its group.
    matched_postings = l_group >= 0
    full_copy = np.zeros(len(ledger), dtype=bool)
    full_copy[matched_postings] = (
        ledger["amount"].to_numpy()[matched_postings] == s_amount[l_group[matched_postings]]
    )
    duplicated = (l_count >= 2) & (_count_by(l_group, full_copy, size) >= 2) & amount_off

    status_off = _status_off(stripe, ledger, s_group, l_group, size)
    probable = grouping.group_pass == PASS_PROBABLE
    timing = s_inside != l_inside

    group_kind = np.select(
        [probable, currency_off, duplicated, amount_off, fee_off, status_off, timing],
        [
            "probable_match",
            "currency_mismatch",
            "duplicate_in_ledger",
            "amount_mismatch",
            "fee_mismatch",
            "status_mismatch",
            "timing",
        ],
        default=CLEAN,
    ).astype(object)
    group_kind[~relevant] = CLEAN

    clean_group = np.zeros(size, dtype=bool)
    clean_group[relevant] = group_kind[relevant] == CLEAN
    matched_stripe_rows = int(
        np.count_nonzero(stripe_in_window & (s_group >= 0) & clean_group[np.maximum(s_group, 0)])
    )

    return _with_leftovers(
        stripe,
        ledger,
        grouping,
        group_kind,
        stripe_in_window=stripe_in_window,
        ledger_in_window=ledger_in_window,
        ledger_types=ledger_types,
        matched_stripe_rows=matched_stripe_rows,
    )


def _status_off(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    s_group: np.ndarray,
    l_group: np.ndarray,
    size: int,
) -> np.ndarray:
    """Groups where Stripe and the ledger disagree on whether a payout was paid."""
    s_types = stripe["type"]
    reversal = s_types.isin(PAYOUT_REVERSAL_TYPES).to_numpy()
    payout = s_types.isin(PAYOUT_TYPES).to_numpy() & (s_group >= 0)
    if not payout.any():
        return np.zeros(size, dtype=bool)
    reversed_sources = stripe["source"][reversal].dropna()
    sources = stripe["source"][payout]
    statuses = stripe["source_status"][payout]
    failed_at_stripe = (
        statuses.isin(FAILED_PAYOUT_STATUSES) | sources.isin(reversed_sources)
    ).to_numpy()
    paid_at_stripe = (statuses == PAID_STATUS).to_numpy() & ~failed_at_stripe
    payout_groups = s_group[payout]
    s_failed = _count_by(payout_groups, failed_at_stripe, size) > 0
    s_paid = _count_by(payout_groups, paid_at_stripe, size) > 0

    l_status = ledger["status"]
    l_reversal = ledger["type"].isin(PAYOUT_REVERSAL_TYPES).to_numpy()
    booked_failure = (
        ledger["source"].isin(ledger["source"][l_reversal].dropna()).to_numpy() & ~l_reversal
    )
    l_paid = _count_by(l_group, (l_status == PAID_STATUS).to_numpy() & ~booked_failure, size) > 0
    l_failed = _count_by(l_group, l_status.isin(FAILED_PAYOUT_STATUSES).to_numpy(), size) > 0
    return (s_failed & l_paid) | (s_paid & l_failed & ~s_failed)


def _with_leftovers(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    grouping: Grouping,
    group_kind: np.ndarray,
    *,
    stripe_in_window: np.ndarray,
    ledger_in_window: np.ndarray,
    ledger_types: Collection[str],
    matched_stripe_rows: int,
) -> Classification:
    """Give each in-window left-over row a group of its own, with its kind."""
    s_group = grouping.stripe_group.copy()
    l_group = grouping.ledger_group.copy()

    s_left = np.flatnonzero((s_group == UNMATCHED) & stripe_in_window)
    left_types = stripe["type"].iloc[s_left]
    # A payout's failure row is part of that payout's status_mismatch, not a second finding.
    status_groups = np.flatnonzero(group_kind == "status_mismatch")
    if len(status_groups):
        mismatched_sources = stripe["source"][np.isin(s_group, status_groups)].dropna()
        folded = (
            left_types.isin(PAYOUT_REVERSAL_TYPES)
            & stripe["source"].iloc[s_left].isin(mismatched_sources)
        ).to_numpy()
        s_left, left_types = s_left[~folded], left_types[~folded]
    s_kinds = np.where(
        left_types.isin(list(ledger_types)).to_numpy(), "missing_in_ledger", "unexpected_type"
    )
    l_left = np.flatnonzero((l_group == UNMATCHED) & ledger_in_window)

    first = len(group_kind)
    s_group[s_left] = first + np.arange(len(s_left))
    l_group[l_left] = first + len(s_left) + np.arange(len(l_left))
    kinds = np.concatenate(
        [group_kind, s_kinds.astype(object), np.full(len(l_left), "missing_in_stripe", object)]
    )
    passes = np.concatenate(
        [grouping.group_pass, np.zeros(len(s_left) + len(l_left), dtype=np.int8)]
    )
    return Classification(s_group, l_group, kinds, passes, matched_stripe_rows)
