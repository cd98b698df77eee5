"""`reconcile`: the pure entry point. Two frames and a window in, a ReconciliationResult out.

No I/O, no clock: the caller loads the frames (the ledger with a margin around the window, so
that a posting on the next day can be told apart from a missing one; the Stripe side may carry
a margin too) and persists the result. Matching rules are in `matcher`, kinds in `classify`.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from reconciliation.classify import CLEAN, Classification, classify
from reconciliation.explain import describe
from reconciliation.frames import validate_ledger_frame, validate_stripe_frame
from reconciliation.matcher import MATCHED_BY, match
from reconciliation.result import Counts, CurrencyTotals, ReconciliationResult
from reconciliation.rules import KNOWN_TYPES
from reconciliation.window import DayWindow

DEFAULT_PROBABLE_WINDOW_S = 6 * 3600


def reconcile(
    stripe_df: pd.DataFrame,
    ledger_df: pd.DataFrame,
    window: DayWindow | tuple[int, int],
    *,
    probable_window_s: int = DEFAULT_PROBABLE_WINDOW_S,
    ledger_types: Collection[str] = KNOWN_TYPES,
    margin_s: int | None = None,
) -> ReconciliationResult:
    """Reconcile one day of Stripe balance transactions against the ledger's postings.

    `window` is [start, end) in unix seconds. Rows outside it on both sides are only used
    to recognise `timing`; with `margin_s`, rows further than that outside the window are
    dropped first (except a Stripe row that a kept posting claims by id).
    `probable_window_s` bounds the time gap of an amount+currency match.
    `ledger_types` are the Stripe types the ledger has a posting rule for.
    """
    if not isinstance(window, DayWindow):
        window = DayWindow(int(window[0]), int(window[1]))
    stripe = validate_stripe_frame(stripe_df)
    ledger = validate_ledger_frame(ledger_df)
    if margin_s is not None:
        ledger = ledger[_within(ledger["occurred_at"], window, margin_s)]
        # A Stripe row a posting claims stays, however far away: that is `timing`, not missing.
        claimed = stripe["balance_transaction"].isin(ledger["balance_transaction"]).to_numpy()
        stripe = stripe[_within(stripe["created"], window, margin_s) | claimed]
    stripe = stripe.reset_index(drop=True)
    ledger = ledger.reset_index(drop=True)

    s_inside = _inside(stripe["created"], window)
    l_inside = _inside(ledger["occurred_at"], window)
    grouping = match(
        stripe,
        ledger,
        stripe_in_window=s_inside,
        ledger_in_window=l_inside,
        probable_eligible=stripe["type"].isin(list(ledger_types)).to_numpy(),
        probable_window_s=probable_window_s,
    )
    classification = classify(
        stripe,
        ledger,
        grouping,
        stripe_in_window=s_inside,
        ledger_in_window=l_inside,
        ledger_types=ledger_types,
    )
    discrepancies = describe(stripe, ledger, classification, window)
    counts = Counts(
        stripe_rows=int(s_inside.sum()),
        ledger_rows=int(l_inside.sum()),
        matched=classification.matched_stripe_rows,
        discrepancies=len(discrepancies),
    )
    return ReconciliationResult(
        window=window,
        counts=counts,
        totals=currency_totals(stripe[s_inside], ledger[l_inside]),
        discrepancies=discrepancies,
        matched=_matched_pairs(stripe, ledger, classification),
    )


def _inside(times: pd.Series, window: DayWindow) -> np.ndarray:
    values = times.to_numpy()
    return (values >= window.start) & (values < window.end)


def _within(times: pd.Series, window: DayWindow, margin_s: int) -> np.ndarray:
    values = times.to_numpy()
    return (values >= window.start - margin_s) & (values < window.end + margin_s)


def currency_totals(stripe: pd.DataFrame, ledger: pd.DataFrame) -> list[CurrencyTotals]:
    """Gross, fee and net per currency on both sides, and the net difference (stripe − ledger)."""
    money = ["amount", "fee", "net"]
    s_sums = stripe.groupby("currency")[money].sum()
    l_sums = ledger.groupby("currency")[money].sum()
    currencies = sorted(set(s_sums.index) | set(l_sums.index))
    # reindex with fill_value keeps int64; an outer join would pass through float NaN.
    s_sums = s_sums.reindex(currencies, fill_value=0).add_suffix("_s")
    l_sums = l_sums.reindex(currencies, fill_value=0).add_suffix("_l")
    joined = pd.concat([s_sums, l_sums], axis=1)
    return [
        CurrencyTotals(
            currency=str(currency),
            stripe_amount=int(row.amount_s),
            stripe_fee=int(row.fee_s),
            stripe_net=int(row.net_s),
            ledger_amount=int(row.amount_l),
            ledger_fee=int(row.fee_l),
            ledger_net=int(row.net_l),
            difference_net=int(row.net_s) - int(row.net_l),
        )
        for currency, row in zip(joined.index, joined.itertuples(index=False), strict=True)
    ]


def _matched_pairs(
    stripe: pd.DataFrame, ledger: pd.DataFrame, classification: Classification
) -> pd.DataFrame:
    """Every (Stripe row, posting) pair that shares a matched group."""
    s_group, l_group = classification.stripe_group, classification.ledger_group
    matched_groups = classification.group_pass > 0
    l_rows = np.flatnonzero((l_group >= 0) & matched_groups[np.maximum(l_group, 0)])
    s_rows = np.flatnonzero((s_group >= 0) & matched_groups[np.maximum(s_group, 0)])
    pairs = pd.DataFrame({"s": s_rows, "group": s_group[s_rows]}).merge(
        pd.DataFrame({"l": l_rows, "group": l_group[l_rows]}), on="group", how="inner"
    )
    s_pos, l_pos, groups = (pairs[c].to_numpy() for c in ("s", "l", "group"))
    kinds = classification.group_kind[groups]
    labels = np.array([""] + [MATCHED_BY[p] for p in sorted(MATCHED_BY)], dtype=object)
    return pd.DataFrame(
        {
            "balance_transaction": stripe["balance_transaction"].to_numpy()[s_pos],
            "posting_id": ledger["posting_id"].to_numpy()[l_pos],
            "posting_ref": ledger["posting_ref"].to_numpy()[l_pos],
            "matched_by": labels[classification.group_pass[groups]],
            "kind": np.where(kinds == CLEAN, "", kinds),
        }
    ).astype(
        {"balance_transaction": "str", "posting_ref": "str", "matched_by": "str", "kind": "str"}
    )
