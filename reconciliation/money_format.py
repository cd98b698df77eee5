"""Currency exponents, display formatting and exact parsing of major-unit text.

The exponent table, `exponent` and `format_minor` are `models.money`'s: there is one table.
This module adds what the core needs on top: the wider set of ISO codes Stripe may present
(a report can carry a currency the platform does not settle in, and must still parse) and
parsing that raises the reconciliation package's errors. Amounts are ints in minor units;
Decimal only parses text.
"""

from __future__ import annotations

from models import errors as money_errors
from models import money
from models.money import SUPPORTED, THREE_DECIMAL, ZERO_DECIMAL, format_minor
from models.money import minor_digits as exponent
from reconciliation.errors import InvalidAmount, UnknownCurrency

__all__ = [
    "KNOWN_CURRENCIES",
    "THREE_DECIMAL",
    "ZERO_DECIMAL",
    "check_currency",
    "exponent",
    "format_minor",
    "parse_major",
]

# ISO 4217 codes Stripe can present in balance transactions and reports. A code outside this
# set in a report is a typo or a corrupt file, not a currency to guess an exponent for.
KNOWN_CURRENCIES = (
    frozenset(
        """
        aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd btn bwp byn
        bzd cad cdf chf cny cop crc cve czk dkk dop dzd egp etb eur fjd fkp gbp gel ghs gip gmd
        gtq gyd hkd hnl htg huf idr ils inr isk jmd kes kgs khr kyd kzt lak lbp lkr lrd lsl mad
        mdl mkd mmk mnt mop mru mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php
        pkr pln qar ron rsd rub sar sbd scr sek sgd shp sle sll sos srd std stn szl thb tjs top
        try ttd twd tzs uah usd uyu uzs ves wst xcd yer zar zmw
        """.split()
    )
    | ZERO_DECIMAL
    | THREE_DECIMAL
    | SUPPORTED
)


def check_currency(currency: str) -> str:
    """Return `currency` if it is a known lowercase ISO code, else raise UnknownCurrency."""
    try:
        return money.check_currency(currency, KNOWN_CURRENCIES)
    except money_errors.UnknownCurrency as error:
        raise UnknownCurrency(str(error)) from None


def parse_major(text: str, currency: str) -> int:
    """Parse major-unit decimal text ("12.34" usd, "1500" jpy, "-1.234" kwd) into minor units,
    exactly (models.money's parser, raising this package's InvalidAmount)."""
    try:
        return money.major_to_minor(text, currency, exponent(currency))
    except money_errors.InvalidAmount as error:
        raise InvalidAmount(str(error)) from None
