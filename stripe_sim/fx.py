"""Exchange rates: a deterministic table the control API sets (GET|POST /_sim/fx).

Stripe converts a charge presented in a currency the account cannot settle in into its
settlement currency at the day's rate, and states that rate on the balance transaction:
"if money was converted from currency A to currency B, then the amount in currency A, times
exchange_rate, would be the amount in currency B" (API reference, Balance Transaction,
`exchange_rate`; docs.stripe.com/currencies, "Currency presentment and settlement"). A refund
of such a charge is converted again, at the rate of the refund's own day.

Rates are Decimals (never floats in the arithmetic), quoted per major unit, as Stripe quotes
them. The table holds US dollars per unit of each currency; a pair's rate is the cross rate,
moved by a small deterministic drift per UTC day (so a refund's day has another rate), unless
an exact rate was set for that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .currencies import exponent

DAY = 86_400  # seconds; config.DAY (config imports this module)

# US dollars per unit, mid-2020s orders of magnitude; tests and the demo set their own.
DEFAULT_USD_PER_UNIT: dict[str, str] = {
    "usd": "1", "eur": "1.08", "gbp": "1.27", "cad": "0.73", "aud": "0.66", "nzd": "0.61",
    "chf": "1.13", "jpy": "0.0067", "mxn": "0.058", "sek": "0.095", "nok": "0.094",
    "dkk": "0.145", "pln": "0.25", "sgd": "0.74", "hkd": "0.128", "inr": "0.012",
    "krw": "0.00073", "brl": "0.18", "kwd": "3.25", "bhd": "2.65", "jod": "1.41",
    "omr": "2.6", "tnd": "0.32",
}
SIGNIFICANT = Decimal("1E-8")


class UnknownRate(LookupError):
    """No rate for a currency (set one with POST /_sim/fx)."""


def parse_rate(value: object, what: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal number, got {value!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"{what} must be a positive decimal number, got {value!r}")
    return rate


def _significant(rate: Decimal, digits: int = 8) -> Decimal:
    if rate == 0:
        return rate
    quantum = Decimal(1).scaleb(rate.adjusted() - digits + 1)
    return rate.quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass
class FxTable:
    usd_per_unit: dict[str, Decimal] = field(
        default_factory=lambda: {c: Decimal(v) for c, v in DEFAULT_USD_PER_UNIT.items()}
    )
    # Per UTC day the cross rate moves by up to this many per mille (0: the same every day).
    daily_drift_per_mille: int = 3
    # Exact pair rates for one UTC day: {day number: {(from, to): rate}}.
    fixed: dict[int, dict[tuple[str, str], Decimal]] = field(default_factory=dict)

    def rate(self, source: str, target: str, when: int) -> Decimal:
        """Units of `target` per unit of `source` (major units) on `when`'s UTC day."""
        if source == target:
            return Decimal(1)
        day = when // DAY
        exact = self.fixed.get(day, {}).get((source, target))
        if exact is not None:
            return exact
        try:
            cross = self.usd_per_unit[source] / self.usd_per_unit[target]
        except KeyError as missing:
            raise UnknownRate(f"no exchange rate for {missing.args[0]}") from None
        span = 2 * self.daily_drift_per_mille + 1
        mixed = (day * 1_103_515_245 + ord(source[0]) * 7 + ord(target[0]) + 12_345) >> 7
        drift = mixed % span - self.daily_drift_per_mille
        return _significant(cross * (1000 + drift) / 1000)

    def state(self) -> dict[str, object]:
        return {
            "usd_per_unit": {c: str(r) for c, r in sorted(self.usd_per_unit.items())},
            "daily_drift_per_mille": self.daily_drift_per_mille,
            "fixed": {
                str(day * DAY): {f"{a}:{b}": str(r) for (a, b), r in sorted(pairs.items())}
                for day, pairs in sorted(self.fixed.items())
            },
        }


def update(table: FxTable, body: dict[str, object]) -> None:
    """POST /_sim/fx: {"usd_per_unit": {"jpy": "0.0067", ...}, "daily_drift_per_mille": 0,
    "fixed": {"<unix time in the day>": {"jpy:usd": "0.0068"}}, "reset": true}.
    Everything is checked before anything changes."""
    unknown = set(body) - {"usd_per_unit", "daily_drift_per_mille", "fixed", "reset"}
    if unknown:
        raise ValueError(f"unknown fx setting(s): {', '.join(sorted(unknown))}")
    rates = body.get("usd_per_unit") or {}
    if not isinstance(rates, dict):
        raise ValueError("usd_per_unit must map currencies to decimal strings")
    parsed = {str(c).lower(): parse_rate(v, f"usd_per_unit[{c}]") for c, v in rates.items()}
    drift = body.get("daily_drift_per_mille", table.daily_drift_per_mille)
    if isinstance(drift, bool) or not isinstance(drift, int) or not 0 <= drift <= 100:
        raise ValueError("daily_drift_per_mille must be an integer from 0 to 100")
    fixed: dict[int, dict[tuple[str, str], Decimal]] = {}
    raw_fixed = body.get("fixed") or {}
    if not isinstance(raw_fixed, dict):
        raise ValueError("fixed must map a unix time to {\"from:to\": rate}")
    for when, pairs in raw_fixed.items():
        if not str(when).isdigit() or not isinstance(pairs, dict):
            raise ValueError("fixed must map a unix time to {\"from:to\": rate}")
        day = fixed.setdefault(int(str(when)) // DAY, {})
        for pair, value in pairs.items():
            source, _, target = str(pair).lower().partition(":")
            if not (len(source) == len(target) == 3):
                raise ValueError(f"fixed pair {pair!r} must be written from:to, e.g. jpy:usd")
            day[(source, target)] = parse_rate(value, f"fixed[{when}][{pair}]")
    if body.get("reset"):
        fresh = FxTable()
        table.usd_per_unit, table.fixed = fresh.usd_per_unit, fresh.fixed
        table.daily_drift_per_mille = fresh.daily_drift_per_mille
    table.usd_per_unit.update(parsed)
    table.daily_drift_per_mille = drift
    for day_number, day_pairs in fixed.items():
        table.fixed.setdefault(day_number, {}).update(day_pairs)


def convert(amount: int, source: str, target: str, rate: Decimal) -> int:
    """`amount` minor units of `source` in minor units of `target`, rounded half up (away
    from zero for negative amounts)."""
    scaled = Decimal(abs(amount)) * rate * Decimal(10) ** (exponent(target) - exponent(source))
    converted = int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return converted if amount >= 0 else -converted


def wire_rate(rate: Decimal) -> float:
    """The rate as Stripe's JSON carries it (a number)."""
    return float(rate)
