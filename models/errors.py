"""Errors of the models layer: money and ledger rules that no caller may break."""


class MidwayError(Exception):
    """Root of every error this project raises on purpose."""


class MoneyError(MidwayError, ValueError):
    """An amount or currency that is not valid money."""


class InvalidAmount(MoneyError):
    """Not an integer in minor units, or more decimals than the currency has."""


class UnknownCurrency(MoneyError):
    """Not a lowercase ISO 4217 code we settle in."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies were combined; we never convert silently."""
