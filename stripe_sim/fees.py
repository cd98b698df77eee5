"""Stripe's processing-fee model: a percentage plus a fixed fee per currency.

All arithmetic is integer, in the currency's minor unit. A rate is in hundredths of a basis
point (1% = 10_000) so that rates such as 2.9% or 0.8% are exact, and the percentage part is
rounded half-up to the minor unit, as Stripe rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Fixed part of the card fee ("30 cents"), per currency, in minor units. Stripe's published
# domestic card pricing: US 2.9% + 30c; EU 1.5%/2.5% + EUR 0.25; UK 1.5% + 20p; JP 3.6% and no
# fixed fee. We keep one percentage for all currencies (configurable) and these fixed parts;
# three-decimal currencies use 0.100 of the unit. Unlisted two-decimal currencies use 30.
CARD_FIXED_FEE: dict[str, int] = {
    "usd": 30, "cad": 30, "aud": 30, "nzd": 30, "chf": 30, "eur": 25, "gbp": 20, "sgd": 50,
    "hkd": 235, "mxn": 300, "brl": 39, "sek": 180, "nok": 200, "dkk": 180, "pln": 100,
    "czk": 600, "huf": 8500, "inr": 300, "jpy": 0, "krw": 0,
    "kwd": 100, "bhd": 100, "jod": 100, "omr": 100, "tnd": 100,
}

# Stripe's dispute (chargeback) fee per currency, in minor units: US $15.00. Other currencies
# fall back to `dispute_fee_default`; set exact values with POST /_sim/fees {"dispute_fees": ..}.
DISPUTE_FEE: dict[str, int] = {"usd": 1500}

PERCENT_SCALE = 1_000_000  # 100% in hundredths of a basis point


def percent_of(amount: int, rate: int) -> int:
    """`amount * rate / PERCENT_SCALE`, rounded half-up (amount is non-negative)."""
    return (amount * rate * 2 + PERCENT_SCALE) // (2 * PERCENT_SCALE)


@dataclass
class FeeModel:
    """How much Stripe keeps. Configure per currency with `card_rates` / `card_fixed`."""

    card_rate: int = 29_000  # 2.9%
    card_rates: dict[str, int] = field(default_factory=dict)
    card_fixed: dict[str, int] = field(default_factory=lambda: dict(CARD_FIXED_FEE))
    card_fixed_default: int = 30
    ach_rate: int = 8_000  # 0.8% ACH Direct Debit
    ach_cap: int = 500  # capped at $5.00
    # A failed ACH debit (returned by the customer's bank): $4.00 (stripe.com/pricing, ACH
    # Direct Debit: "Failed payment $4.00"), charged on the payment_failure_refund.
    ach_failure_fee: int = 400
    # Currency conversion: "+1% if currency conversion is required" (stripe.com/pricing, US
    # accounts), on the converted amount, shown in the balance transaction's fee_details.
    conversion_rate: int = 10_000
    instant_payout_rate: int = 15_000  # 1.5% of an instant payout
    instant_payout_minimum: int = 50
    dispute_fees: dict[str, int] = field(default_factory=lambda: dict(DISPUTE_FEE))
    dispute_fee_default: int = 1500

    def card_fee(self, amount: int, currency: str) -> int:
        rate = self.card_rates.get(currency, self.card_rate)
        fixed = self.card_fixed.get(currency, self.card_fixed_default)
        return percent_of(amount, rate) + fixed

    def ach_fee(self, amount: int, currency: str) -> int:
        return min(percent_of(amount, self.ach_rate), self.ach_cap)

    def charge_fee(self, amount: int, currency: str, method_type: str) -> int:
        if method_type == "us_bank_account":
            return self.ach_fee(amount, currency)
        return self.card_fee(amount, currency)

    def conversion_fee(self, settled_amount: int) -> int:
        return percent_of(settled_amount, self.conversion_rate)

    def instant_payout_fee(self, amount: int, currency: str) -> int:
        return max(percent_of(amount, self.instant_payout_rate), self.instant_payout_minimum)

    def dispute_fee(self, currency: str) -> int:
        return self.dispute_fees.get(currency, self.dispute_fee_default)
