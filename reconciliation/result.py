"""What a reconciliation returns: discrepancies, counts, per-currency totals, matched pairs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from reconciliation.window import DayWindow

if TYPE_CHECKING:  # pandas loads where frames are built, not in the web process that reads runs
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One finding. Amounts are ints in minor units of `currency`; a side that has no rows
    has None. `difference` is stripe − ledger of the gross amounts (a missing side counts as
    0), except for `fee_mismatch` where it is stripe_fee − ledger_fee, and None for a
    `currency_mismatch` (amounts in two currencies do not subtract)."""

    kind: str
    currency: str
    stripe_balance_transaction: str | None  # several ids are joined with ", "
    stripe_source: str | None
    ledger_refs: tuple[str, ...]
    stripe_amount: int | None
    ledger_amount: int | None
    difference: int | None
    stripe_fee: int | None
    ledger_fee: int | None
    occurred_at: int  # Stripe's created if Stripe has the row, else the posting's occurred_at
    account: str
    explanation: str
    fingerprint: str
    stripe_type: str | None = None
    ledger_currency: str | None = None
    matched_by: str | None = None  # balance_transaction / source / amount_time

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ledger_refs"] = list(self.ledger_refs)
        return data


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """Sums of the in-window rows of one currency; differences are stripe − ledger."""

    currency: str
    stripe_amount: int
    stripe_fee: int
    stripe_net: int
    ledger_amount: int
    ledger_fee: int
    ledger_net: int
    difference_net: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Counts:
    stripe_rows: int  # Stripe rows inside the window
    ledger_rows: int  # ledger postings inside the window
    matched: int  # in-window Stripe rows matched with no discrepancy
    discrepancies: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ReconciliationResult:
    window: DayWindow
    counts: Counts
    totals: list[CurrencyTotals]
    discrepancies: list[Discrepancy]
    # One row per (Stripe row, posting) pair of every matched group, clean or not: columns
    # balance_transaction, posting_id, posting_ref, matched_by, kind ("" when clean).
    matched: pd.DataFrame = field(repr=False)

    @property
    def is_clean(self) -> bool:
        return not self.discrepancies

    def discrepancies_frame(self) -> pd.DataFrame:
        """The discrepancies as a DataFrame (ledger_refs as lists; amounts as nullable Int64)."""
        import pandas as pd

        columns = list(Discrepancy.__dataclass_fields__)
        frame = pd.DataFrame([d.to_dict() for d in self.discrepancies], columns=columns)
        for name in ("stripe_amount", "ledger_amount", "difference", "stripe_fee", "ledger_fee"):
            frame[name] = frame[name].astype("Int64")
        frame["occurred_at"] = frame["occurred_at"].astype("int64")
        return frame
