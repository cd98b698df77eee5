"""Money as Stripe counts it: an integer in the currency's minor unit plus a lowercase ISO code.

Never a float. Decimal appears only at the edges, to parse what a person typed or to format
for display; arithmetic between amounts is integer arithmetic, and mixing currencies is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from models.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# Currencies whose minor unit is not the hundredth, as Stripe lists them.
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

# The currencies this platform settles in. Stripe supports more; adding one here is a
# business decision (fees, payouts, reporting), not a code change elsewhere.
SUPPORTED = (
    frozenset("usd eur gbp cad aud chf sek nok dkk pln czk mxn nzd sgd hkd".split())
    | ZERO_DECIMAL
    | THREE_DECIMAL
)

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def check_currency(currency: str, known: frozenset[str] = SUPPORTED) -> str:
    """Return the currency code if it is one of `known` (default: those we settle in), else
    raise UnknownCurrency."""
    if not isinstance(currency, str) or currency not in known:
        raise UnknownCurrency(f"unknown currency {currency!r}: expected a lowercase ISO 4217 code")
    return currency


def minor_digits(currency: str) -> int:
    """Digits of any ISO currency's minor unit (jpy 0, usd 2, kwd 3), whether or not we settle
    in it: reports and explanations may name a currency Stripe presents and we do not."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def exponent(currency: str) -> int:
    """Digits after the decimal point in a currency we settle in; UnknownCurrency otherwise."""
    return minor_digits(check_currency(currency))


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True cents is a bug, not an amount.
        if type(self.amount) is not int:
            raise InvalidAmount(f"amount must be an integer in minor units, got {self.amount!r}")
        check_currency(self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency} amounts")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return format_minor(self.amount, self.currency)


def parse_major(text: str, currency: str) -> Money:
    """Parse a decimal string in major units ("12.34" usd) into Money, exactly.

    More decimals than the currency has is an error rather than a rounding: "0.001" dollars
    is not a thing we can charge.
    """
    return Money(major_to_minor(text, currency, exponent(currency)), currency)


def major_to_minor(text: str, currency: str, digits: int) -> int:
    """Exact minor units of major-unit text with `digits` decimals ("12.34" → 1234), via
    Decimal; InvalidAmount for non-numbers and for more decimals than the currency has."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise InvalidAmount(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise InvalidAmount(f"{text!r} is not a finite amount")
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise InvalidAmount(
            f"{text!r} has more than {digits} decimal places, too many for {currency}"
        )
    return int(minor)


def to_major_decimal(amount: int, currency: str) -> Decimal:
    """The exact major-unit Decimal of a minor-unit amount, for display columns."""
    return Decimal(amount).scaleb(-minor_digits(currency))


def format_minor(amount: int, currency: str, *, symbol: bool = True) -> str:
    """Format for people: "$1,234.50", "¥1,500", "KWD 1.234", "-€3.00"."""
    digits = minor_digits(currency)
    sign = "-" if amount < 0 else ""
    number = f"{to_major_decimal(abs(amount), currency):,.{digits}f}"
    if not symbol:
        return f"{sign}{number}"
    prefix = SYMBOLS.get(currency)
    if prefix:
        return f"{sign}{prefix}{number}"
    return f"{sign}{currency.upper()} {number}"


# Stripe's minimum charge amounts in minor units, for the currencies we settle in
# (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). Currencies Stripe
# does not list take the equivalent of about 50 US cents at their exponent's scale.
MINIMUM_CHARGE = {
    "usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "sek": 300, "nok": 300,
    "dkk": 250, "pln": 200, "czk": 1500, "mxn": 1000, "nzd": 50, "sgd": 50, "hkd": 400,
    "jpy": 50, "krw": 700, "kwd": 150, "bhd": 190, "jod": 360, "omr": 190, "tnd": 1500,
}  # fmt: skip


def minimum_charge(currency: str) -> Money:
    """The smallest amount Stripe charges in a currency we settle in."""
    amount = MINIMUM_CHARGE.get(check_currency(currency))
    if amount is None:
        amount = 500 if minor_digits(currency) == 3 else 50
    return Money(amount, currency)
