"""Day windows across time zones and DST; currency formatting and exact parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciliation.errors import InvalidAmount, InvalidTimeZone, UnknownCurrency
from reconciliation.money_format import check_currency, exponent, format_minor, parse_major
from reconciliation.window import day, day_window


def test_utc_day_is_24_hours_from_midnight() -> None:
    start, end = day_window(dt.date(2026, 3, 10))
    assert start == int(dt.datetime(2026, 3, 10, tzinfo=dt.UTC).timestamp())
    assert end - start == 86_400


def test_spring_forward_day_is_23_hours() -> None:
    start, end = day_window(dt.date(2026, 3, 8), "America/New_York")
    assert end - start == 23 * 3600
    assert start == int(dt.datetime(2026, 3, 8, 5, tzinfo=dt.UTC).timestamp())  # EST midnight
    assert end == int(dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC).timestamp())  # EDT midnight


def test_fall_back_day_is_25_hours() -> None:
    start, end = day_window("2026-11-01", "America/New_York")
    assert end - start == 25 * 3600


def test_consecutive_days_tile_without_gap_or_overlap() -> None:
    for zone in ("America/New_York", "Europe/Paris", "Australia/Sydney"):
        ends = [day_window(dt.date(2026, 3, 1) + dt.timedelta(d), zone) for d in range(60)]
        assert all(a[1] == b[0] for a, b in zip(ends, ends[1:], strict=False))


def test_non_utc_zone_shifts_the_window() -> None:
    start, end = day_window("2026-03-10", "Asia/Tokyo")
    assert start == int(dt.datetime(2026, 3, 9, 15, tzinfo=dt.UTC).timestamp())
    assert end - start == 86_400
    window = day("2026-03-10", "Asia/Tokyo")
    assert (window.date, window.timezone, window.seconds) == (
        dt.date(2026, 3, 10),
        "Asia/Tokyo",
        86_400,
    )


@pytest.mark.parametrize("name", ["Mars/Olympus", "", " UTC", "../etc/passwd", "EST5EDT/x"])
def test_unknown_zone_is_a_clear_error(name: str) -> None:
    with pytest.raises(InvalidTimeZone, match="time zone"):
        day_window("2026-03-10", name)


def test_bad_date_text_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        day_window("10/03/2026")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1234, "usd", "$12.34"),
        (-50, "usd", "-$0.50"),
        (123_456_789, "usd", "$1,234,567.89"),
        (1500, "jpy", "¥1,500"),
        (1234, "kwd", "KWD 1.234"),
        (-1_000_001, "bhd", "-BHD 1,000.001"),
        (5, "eur", "€0.05"),
        (0, "clp", "CLP 0"),
    ],
)
def test_format_minor(amount: int, currency: str, text: str) -> None:
    assert format_minor(amount, currency) == text


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "usd", 1234),
        ("-0.5", "usd", -50),
        ("1500", "jpy", 1500),
        ("1500.0", "jpy", 1500),
        ("1.234", "kwd", 1234),
        ("99999999999.99", "usd", 9_999_999_999_999),
    ],
)
def test_parse_major(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("12.345", "usd"),
        ("1500.5", "jpy"),
        ("1.2345", "kwd"),
        ("abc", "usd"),
        ("NaN", "usd"),
        ("", "usd"),
    ],
)
def test_parse_major_rejects(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_major(text, currency)


def test_exponents_and_known_currencies() -> None:
    assert [exponent(c) for c in ("jpy", "usd", "kwd", "krw", "tnd")] == [0, 2, 3, 0, 3]
    assert check_currency("usd") == "usd"
    for bad in ("USD", "xxx", "us"):
        with pytest.raises(UnknownCurrency):
            check_currency(bad)
