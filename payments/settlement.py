"""Which currency Stripe will settle a payment in, and whether its carrier can then be paid.

Stripe settles a charge in its presentment currency when the platform has a bank account in
it, else converts it into the platform's default settlement currency (docs.stripe.com/
currencies). The carrier's share is transferred from that balance, so it is paid in the
settlement currency: `carrier_amount` (presentment) at the charge's own exchange rate,
rounded down (bookings.carrier_share_settled). A payment is accepted only when that is the
currency of the carrier's connected account (their bank) and the nightly batch pays it (a
PAYOUT_THRESHOLDS entry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from payments.errors import InvalidOperation


def settles_in(currency: str, settlement_currencies: Sequence[str]) -> str:
    """The currency a payment presented in `currency` lands in on the platform's balance."""
    return currency if currency in settlement_currencies else settlement_currencies[0]


def check_carrier_payable(
    currency: str,
    settlement_currencies: Sequence[str],
    payout_thresholds: Mapping[str, int],
    carrier_currency: str,
) -> str:
    """The currency the carrier will be paid in; InvalidOperation naming the currencies this
    carrier can be paid for when it cannot. Their connected account settles in its default
    currency (their bank), so the platform's settlement currency must be that one, and a
    nightly batch must pay it (a PAYOUT_THRESHOLDS entry)."""
    paid_in = settles_in(currency, settlement_currencies)
    if paid_in == carrier_currency and paid_in in payout_thresholds:
        return paid_in
    others = [c for c in settlement_currencies if c != carrier_currency]
    if carrier_currency not in settlement_currencies or carrier_currency not in payout_thresholds:
        allowed = "none"
    elif carrier_currency != settlement_currencies[0]:
        allowed = carrier_currency  # settles as itself; everything else converts elsewhere
    elif others:
        allowed = f"any except {', '.join(others)} (converted into {carrier_currency})"
    else:
        allowed = f"any (converted into {carrier_currency})"
    raise InvalidOperation(
        f"a {currency} payment settles in {paid_in}, and the carrier can be paid only in"
        f" {carrier_currency} (their Stripe account's currency"
        + ("" if carrier_currency in payout_thresholds else ", with no payout threshold")
        + f"); currencies allowed for this carrier: {allowed}"
    )


def rate_text(rate: Decimal | None) -> str | None:
    """An exchange rate for JSON: the decimal as written, never a float."""
    if rate is None:
        return None
    return format(rate.normalize(), "f")
