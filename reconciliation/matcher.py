"""Matching: assign Stripe rows and ledger postings to match groups, in three passes.

A *group* is a set of Stripe rows and a set of ledger postings that mirror the same money
movement. Groups are ints; every row carries its group id or -1 (unmatched).

1. By balance transaction id: every posting whose `balance_transaction` is a Stripe row's id
   joins that row's group (one Stripe row, any number of postings: one-to-many).
2. By source id, for postings left over: the key is (source, type family), so a payout and
   its payout_failure (same `po_` source) stay apart. Left-over Stripe rows and postings with
   the same key form a group (many-to-one and many-to-many); a posting whose key only finds a
   Stripe row already matched in pass 1 joins that row's group (a split, or a duplicate).
3. By amount, fee, currency and type family within `probable_window_s` seconds, for what is still
   left, one to one, closest in time first. Only postings that claim no Stripe id take part:
   a posting naming a balance transaction or source id that Stripe lacks is an error of its
   own (`missing_in_stripe`), and pairing it with an unbooked Stripe row would hide two real
   errors behind one "probable" match. Stripe rows of types the ledger has no rule for do not
   take part either. These groups are reported as `probable_match`.

Everything is vectorised: pass 1 is one hash lookup of the ledger ids in the Stripe ids; the
later passes only see the left-overs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reconciliation.rules import TYPE_FAMILY

UNMATCHED = -1
PASS_ID = 1
PASS_SOURCE = 2
PASS_PROBABLE = 3
MATCHED_BY = {PASS_ID: "balance_transaction", PASS_SOURCE: "source", PASS_PROBABLE: "amount_time"}

_KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Grouping:
    """Group id of every Stripe row and every ledger posting (-1 = unmatched)."""

    stripe_group: np.ndarray
    ledger_group: np.ndarray
    group_pass: np.ndarray  # PASS_* per group id; 0 for ids no row uses

    @property
    def n_groups(self) -> int:
        return len(self.group_pass)


def match(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    *,
    stripe_in_window: np.ndarray,
    ledger_in_window: np.ndarray,
    probable_eligible: np.ndarray,
    probable_window_s: int,
) -> Grouping:
    """Run the three passes over frames indexed 0..n-1; see the module docstring."""
    n_stripe = len(stripe)
    stripe_group = np.full(n_stripe, UNMATCHED, dtype=np.int64)
    passes: list[np.ndarray] = []

    # Pass 1: group id = the Stripe row's position.
    ledger_group = (
        pd.Index(stripe["balance_transaction"])
        .get_indexer(ledger["balance_transaction"])
        .astype(np.int64)
    )
    hit = ledger_group[ledger_group >= 0]
    stripe_group[hit] = hit
    pass_one = np.zeros(n_stripe, dtype=np.int8)
    pass_one[hit] = PASS_ID
    passes.append(pass_one)

    next_group = n_stripe
    next_group = _match_by_source(stripe, ledger, stripe_group, ledger_group, next_group, passes)
    _match_by_amount_time(
        stripe,
        ledger,
        stripe_group,
        ledger_group,
        next_group,
        passes,
        in_window=(stripe_in_window, ledger_in_window),
        eligible=probable_eligible,
        window_s=probable_window_s,
    )
    return Grouping(stripe_group, ledger_group, np.concatenate(passes))


def _source_keys(frame: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    subset = frame.iloc[rows]
    family = subset["type"].replace(TYPE_FAMILY)
    return subset["source"] + _KEY_SEPARATOR + family


def _match_by_source(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    stripe_group: np.ndarray,
    ledger_group: np.ndarray,
    next_group: int,
    passes: list[np.ndarray],
) -> int:
    ledger_rows = np.flatnonzero((ledger_group == UNMATCHED) & ledger["source"].notna().to_numpy())
    if len(ledger_rows) == 0:
        return next_group
    ledger_sources = ledger["source"].iloc[ledger_rows].unique()
    stripe_rows = np.flatnonzero(stripe["source"].isin(ledger_sources).to_numpy())
    if len(stripe_rows) == 0:
        return next_group

    ledger_keys = _source_keys(ledger, ledger_rows).to_numpy()
    stripe_keys = _source_keys(stripe, stripe_rows).to_numpy()
    codes, uniques = pd.factorize(np.concatenate([stripe_keys, ledger_keys]))
    stripe_codes, ledger_codes = codes[: len(stripe_rows)], codes[len(stripe_rows) :]

    # Per key: the group its postings join. Left-over Stripe rows make a new group for the
    # key; otherwise the postings join the pass-1 group of a Stripe row with that key.
    group_of_key = np.full(len(uniques), UNMATCHED, dtype=np.int64)
    already = stripe_group[stripe_rows]
    matched_first = np.flatnonzero(already != UNMATCHED)[::-1]  # reversed: first row wins
    group_of_key[stripe_codes[matched_first]] = already[matched_first]

    keys_with_postings = np.zeros(len(uniques), dtype=bool)
    keys_with_postings[ledger_codes] = True
    new_rows = np.flatnonzero((already == UNMATCHED) & keys_with_postings[stripe_codes])
    new_keys = np.unique(stripe_codes[new_rows])
    group_of_key[new_keys] = next_group + np.arange(len(new_keys))
    stripe_group[stripe_rows[new_rows]] = group_of_key[stripe_codes[new_rows]]

    ledger_group[ledger_rows] = group_of_key[ledger_codes]
    passes.append(np.full(len(new_keys), PASS_SOURCE, dtype=np.int8))
    return next_group + len(new_keys)


def _match_by_amount_time(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    stripe_group: np.ndarray,
    ledger_group: np.ndarray,
    next_group: int,
    passes: list[np.ndarray],
    *,
    in_window: tuple[np.ndarray, np.ndarray],
    eligible: np.ndarray,
    window_s: int,
) -> int:
    stripe_rows = np.flatnonzero((stripe_group == UNMATCHED) & eligible)
    claims_no_id = (ledger["balance_transaction"].isna() & ledger["source"].isna()).to_numpy()
    ledger_rows = np.flatnonzero((ledger_group == UNMATCHED) & claims_no_id)
    if len(stripe_rows) == 0 or len(ledger_rows) == 0 or window_s < 0:
        return next_group
    left = pd.DataFrame(
        {
            "s": stripe_rows,
            "currency": stripe["currency"].to_numpy()[stripe_rows],
            "amount": stripe["amount"].to_numpy()[stripe_rows],
            "fee": stripe["fee"].to_numpy()[stripe_rows],
            "family": stripe["type"].iloc[stripe_rows].replace(TYPE_FAMILY).to_numpy(),
            "t_s": stripe["created"].to_numpy()[stripe_rows],
            "in_s": in_window[0][stripe_rows],
        }
    )
    right = pd.DataFrame(
        {
            "l": ledger_rows,
            "currency": ledger["currency"].to_numpy()[ledger_rows],
            "amount": ledger["amount"].to_numpy()[ledger_rows],
            "fee": ledger["fee"].to_numpy()[ledger_rows],
            "family": ledger["type"].iloc[ledger_rows].replace(TYPE_FAMILY).to_numpy(),
            "t_l": ledger["occurred_at"].to_numpy()[ledger_rows],
            "in_l": in_window[1][ledger_rows],
        }
    )
    candidates = left.merge(right, on=["currency", "amount", "fee", "family"], how="inner")
    candidates["distance"] = (candidates["t_s"] - candidates["t_l"]).abs()
    candidates = candidates[
        (candidates["distance"] <= window_s) & (candidates["in_s"] | candidates["in_l"])
    ]
    candidates = candidates.sort_values(["distance", "s", "l"], kind="stable")[["s", "l"]]

    # Greedy one-to-one, closest first: each round accepts every pair that is the closest
    # for its Stripe row and, among those, the closest for its posting.
    pairs: list[pd.DataFrame] = []
    while len(candidates):
        best = candidates.drop_duplicates("s").drop_duplicates("l")
        pairs.append(best)
        candidates = candidates[~candidates["s"].isin(best["s"]) & ~candidates["l"].isin(best["l"])]
    if not pairs:
        return next_group
    accepted = pd.concat(pairs, ignore_index=True)
    group_ids = next_group + np.arange(len(accepted), dtype=np.int64)
    stripe_group[accepted["s"].to_numpy()] = group_ids
    ledger_group[accepted["l"].to_numpy()] = group_ids
    passes.append(np.full(len(accepted), PASS_PROBABLE, dtype=np.int8))
    return next_group + len(accepted)
