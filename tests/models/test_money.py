from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from models.money import SUPPORTED, Money, exponent, format_minor, parse_major, to_major_decimal


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("usd", 2), ("eur", 2), ("jpy", 0), ("krw", 0), ("xpf", 0), ("kwd", 3), ("bhd", 3)],
)
def test_exponent_follows_stripe_minor_units(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


@pytest.mark.parametrize("currency", ["USD", "us", "xxx", "", "usdd"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(UnknownCurrency, match="unknown currency"):
        exponent(currency)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "usd", 1234),
        ("12", "usd", 1200),
        ("0.5", "usd", 50),
        ("1,500", "jpy", 1500),
        ("1.234", "kwd", 1234),
        ("-3.00", "eur", -300),
    ],
)
def test_parse_major_is_exact(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency"),
    [("0.001", "usd"), ("1.5", "jpy"), ("1.2345", "kwd"), ("abc", "usd"), ("NaN", "usd")],
)
def test_parse_major_refuses_what_cannot_be_charged(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_major(text, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123450, "usd", "$1,234.50"),
        (1500, "jpy", "¥1,500"),
        (1234, "kwd", "KWD 1.234"),
        (-300, "eur", "-€3.00"),
        (5, "usd", "$0.05"),
    ],
)
def test_format_uses_the_currency_own_decimals(amount: int, currency: str, shown: str) -> None:
    assert format_minor(amount, currency) == shown


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(sorted(SUPPORTED)))
def test_format_then_parse_round_trips(amount: int, currency: str) -> None:
    shown = format_minor(amount, currency, symbol=False)
    assert parse_major(shown, currency) == Money(amount, currency)
    assert to_major_decimal(amount, currency) == Decimal(shown.replace(",", ""))


def test_money_is_integer_minor_units_only() -> None:
    with pytest.raises(InvalidAmount):
        Money(12.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(True, "usd")
    with pytest.raises(InvalidAmount):
        Money(Decimal("1"), "usd")  # type: ignore[arg-type]


def test_adding_different_currencies_is_an_error_not_a_conversion() -> None:
    assert Money(100, "usd") + Money(250, "usd") == Money(350, "usd")
    assert Money(100, "usd") - Money(250, "usd") == Money(-150, "usd")
    assert -Money(100, "jpy") == Money(-100, "jpy")
    with pytest.raises(CurrencyMismatch, match="usd and eur"):
        Money(100, "usd") + Money(100, "eur")
