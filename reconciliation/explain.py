"""Turn the classified groups into Discrepancy records: amounts, ids, a one-sentence
explanation a finance person understands, and a stable fingerprint.

This walks only the discrepant groups (a few thousand at most), never the whole frames.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from models.money import format_minor
from reconciliation.classify import CLEAN, Classification
from reconciliation.matcher import MATCHED_BY
from reconciliation.result import Discrepancy
from reconciliation.rules import FAILED_PAYOUT_STATUSES, PAID_STATUS
from reconciliation.window import DayWindow


@dataclass
class _Side:
    """The rows of one side of one group, summed."""

    ids: list[str]
    sources: list[str]
    currencies: list[str]
    claimed: list[str] = field(default_factory=list)  # a posting's own balance transaction id
    amount: int = 0
    fee: int = 0
    time: int = 0
    type: str = ""
    category: str = ""
    account: str = ""
    status: str | None = None


def describe(
    stripe: pd.DataFrame,
    ledger: pd.DataFrame,
    classification: Classification,
    window: DayWindow,
) -> list[Discrepancy]:
    """One Discrepancy per discrepant group, ordered by time, then kind, then ids."""
    discrepant = classification.group_kind != CLEAN
    stripe_sides = _sides(
        stripe, classification.stripe_group, discrepant, "balance_transaction", "created"
    )
    ledger_sides = _sides(
        ledger, classification.ledger_group, discrepant, "posting_ref", "occurred_at"
    )
    tz = ZoneInfo(window.timezone)
    out = []
    for group in np.flatnonzero(discrepant).tolist():
        kind = str(classification.group_kind[group])
        matched_by = MATCHED_BY.get(int(classification.group_pass[group]))
        out.append(
            _discrepancy(kind, stripe_sides.get(group), ledger_sides.get(group), matched_by, tz)
        )
    out.sort(
        key=lambda d: (d.occurred_at, d.kind, d.stripe_balance_transaction or "", d.ledger_refs)
    )
    return out


def _sides(
    frame: pd.DataFrame,
    groups: np.ndarray,
    discrepant: np.ndarray,
    id_column: str,
    time_column: str,
) -> dict[int, _Side]:
    rows = np.flatnonzero((groups >= 0) & discrepant[np.maximum(groups, 0)])
    subset = frame.iloc[rows]
    has_category = "reporting_category" in frame.columns
    status_column = "source_status" if "source_status" in frame.columns else "status"
    sides: dict[int, _Side] = {}
    for group, row in zip(groups[rows].tolist(), subset.itertuples(index=False), strict=True):
        record = row._asdict()
        side = sides.get(group)
        if side is None:
            side = sides[group] = _Side(
                ids=[],
                sources=[],
                currencies=[],
                time=int(record[time_column]),
                type=record["type"],
                category=record["reporting_category"] if has_category else "",
                account=record["account"],
                status=_text(record[status_column]),
            )
        side.ids.append(record[id_column])
        source = _text(record["source"])
        if source and source not in side.sources:
            side.sources.append(source)
        claimed = _text(record["balance_transaction"])
        if id_column != "balance_transaction" and claimed and claimed not in side.claimed:
            side.claimed.append(claimed)
        if record["currency"] not in side.currencies:
            side.currencies.append(record["currency"])
        side.amount += int(record["amount"])
        side.fee += int(record["fee"])
        side.time = min(side.time, int(record[time_column]))
    return sides


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _discrepancy(
    kind: str, s: _Side | None, led: _Side | None, matched_by: str | None, tz: ZoneInfo
) -> Discrepancy:
    currency = (s or led).currencies[0]  # type: ignore[union-attr]
    ledger_currency = led.currencies[0] if led else None
    if kind == "currency_mismatch":
        difference = None
    elif kind == "fee_mismatch":
        difference = (s.fee if s else 0) - (led.fee if led else 0)
    else:
        difference = (s.amount if s else 0) - (led.amount if led else 0)
    stripe_id = ", ".join(s.ids) if s else None
    source = (s.sources[0] if s and s.sources else None) or (
        led.sources[0] if led and led.sources else None
    )
    refs = tuple(sorted(led.ids)) if led else ()
    fields = {
        "kind": kind,
        "currency": currency,
        "stripe_balance_transaction": stripe_id,
        "stripe_source": source,
        "ledger_refs": refs,
        "stripe_amount": s.amount if s else None,
        "ledger_amount": led.amount if led else None,
        "stripe_fee": s.fee if s else None,
        "ledger_fee": led.fee if led else None,
        "ledger_currency": ledger_currency,
    }
    return Discrepancy(
        difference=difference,
        occurred_at=(s or led).time,  # type: ignore[union-attr]
        account=(s or led).account,  # type: ignore[union-attr]
        explanation=_explain(kind, s, led, currency, tz),
        fingerprint=fingerprint(fields),
        stripe_type=s.type if s else None,
        matched_by=matched_by,
        **fields,  # type: ignore[arg-type]
    )


def _is_dispute(s: _Side) -> bool:
    return s.category == "dispute" or any(source.startswith("du_") for source in s.sources)


def fingerprint(fields: dict[str, object]) -> str:
    """A stable hash of kind, ids and amounts: the same finding on a re-run hashes the same."""
    text = "|".join(
        f"{name}={','.join(map(str, value)) if isinstance(value, tuple) else value}"
        for name, value in sorted(fields.items())
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _explain(kind: str, s: _Side | None, led: _Side | None, currency: str, tz: ZoneInfo) -> str:
    def money(amount: int, in_currency: str = currency) -> str:
        return format_minor(amount, in_currency)

    def refs() -> str:
        return ", ".join(sorted(led.ids)) if led else ""

    def what() -> str:
        """'charge txn_1 (source ch_1)' for the Stripe side."""
        assert s is not None
        label = s.type.replace("_", " ")
        source = f" (source {s.sources[0]})" if s.sources else ""
        return f"{label} {', '.join(s.ids)}{source}"

    def when(unix: int) -> str:
        return dt.datetime.fromtimestamp(unix, tz).strftime("%Y-%m-%d %H:%M %Z")

    def day_of(unix: int) -> str:
        return dt.datetime.fromtimestamp(unix, tz).date().isoformat()

    if kind == "missing_in_ledger":
        assert s is not None
        if s.type == "payment_refund" and s.sources and s.sources[0].startswith("pyr_"):
            return (
                f"A transfer reversal took {money(-s.amount)} back from this connected account "
                f"({', '.join(s.ids)}, refund {s.sources[0]} of the transfer's payment), but the "
                f"ledger has no posting for it; book it or ask who reversed the transfer."
            )
        if s.type == "transfer_refund":
            return (
                f"A transfer reversal returned {money(s.amount)} to the platform ({what()}), but "
                f"the ledger has no posting for it; book it or ask who reversed the transfer."
            )
        return (
            f"Stripe recorded {what()} of {money(s.amount)}, but the ledger has no posting for it."
        )
    if kind == "unexpected_type" and (s is not None and _is_dispute(s)):
        return (
            f"Chargeback: a customer disputed a charge ({what()}), so Stripe withdrew "
            f"{money(-s.amount)} and a {money(s.fee)} dispute fee; the day's balance is "
            f"{money(s.fee - s.amount)} lower; respond with evidence or accept the loss."
        )
    if kind == "unexpected_type":
        assert s is not None
        category = (
            f", reporting category {s.category}," if s.category and s.category != s.type else ""
        )
        return (
            f"Stripe recorded {what()}{category} of {money(s.amount)}, a kind of activity the "
            f"ledger has no rule for; book an adjusting posting or investigate."
        )
    if kind == "missing_in_stripe":
        assert led is not None
        claims = [f"balance transaction {', '.join(led.claimed)}"] if led.claimed else []
        claims += [f"source {', '.join(led.sources)}"] if led.sources else []
        claim = " and ".join(claims) if claims else "no Stripe id"
        return (
            f"The ledger posted a {led.type.replace('_', ' ')} of {money(led.amount)} "
            f"({refs()}, claiming {claim}) at {when(led.time)}, but Stripe has no such balance "
            f"transaction; find the Stripe activity it stands for, or reverse the posting."
        )
    assert s is not None and led is not None
    if kind == "currency_mismatch":
        return (
            f"Stripe recorded {what()} in {'/'.join(c.upper() for c in s.currencies)} "
            f"({money(s.amount)}), but the ledger posted it in "
            f"{'/'.join(c.upper() for c in led.currencies)} "
            f"({money(led.amount, led.currencies[0])}, {refs()})."
        )
    if kind == "duplicate_in_ledger":
        return (
            f"The ledger posted Stripe {what()} of {money(s.amount)} {len(led.ids)} times "
            f"({refs()}), overstating it by {money(led.amount - s.amount)}."
        )
    if kind == "amount_mismatch":
        return (
            f"Stripe recorded {what()} of {money(s.amount)}, but the ledger posted "
            f"{money(led.amount)} ({refs()}), a difference of {money(s.amount - led.amount)}."
        )
    if kind == "fee_mismatch":
        return (
            f"Stripe took a fee of {money(s.fee)} on {what()} ({money(s.amount)} gross), but the "
            f"ledger recorded a fee of {money(led.fee)} ({refs()}), a difference of "
            f"{money(s.fee - led.fee)}."
        )
    if kind == "status_mismatch":
        if s.status in FAILED_PAYOUT_STATUSES or s.status == PAID_STATUS:
            stripe_status = s.status
        else:  # known only from a payout_failure row, or inferred from the ledger's claim
            stripe_status = "failed" if led.status == PAID_STATUS else PAID_STATUS
        return (
            f"Stripe reports {what()} of {money(s.amount)} as {stripe_status}, but the ledger "
            f"shows it as {led.status or 'unknown'} ({refs()})."
        )
    if kind == "timing":
        later = max(s.time, led.time)
        return (
            f"Stripe recorded {what()} of {money(s.amount)} at {when(s.time)}, but the ledger "
            f"posted it at {when(led.time)} ({refs()}), so the two fall on different days; no "
            f"action is needed, it clears once {day_of(later)} is reconciled too."
        )
    if kind == "probable_match":
        minutes = abs(s.time - led.time) // 60
        return (
            f"Stripe {what()} of {money(s.amount)} has no posting with its ids; ledger "
            f"{refs()}, which names no Stripe id, has the same amount, fee and currency "
            f"{minutes} min apart; check that they are the same movement before linking them, "
            f"since otherwise the Stripe {s.type.replace('_', ' ')} is unbooked and the "
            f"posting has no Stripe activity behind it."
        )
    raise ValueError(f"unknown discrepancy kind {kind!r}")
