"""Which currencies an account settles in, and what a movement in another currency becomes.

An account holds balances only in currencies it can settle in — its default currency and those
of its bank accounts ("Settle in additional currencies", docs.stripe.com/payments/currencies/
settlement-payouts). A charge presented in any other currency is converted into the default
settlement currency at the day's rate, and the balance transaction carries `exchange_rate`
(docs.stripe.com/currencies, "Currency presentment and settlement"). The platform's set comes
from `SimConfig.settlement_currencies` (`midway stripe-sim --settlement-currencies`); a
connected account's from its `default_currency`; both can be changed with
POST /_sim/accounts/{id}/settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import fx
from .currencies import is_supported
from .store import AccountState, Store

_KEY = "settlement"


@dataclass(frozen=True)
class Settled:
    """A movement as the balance sees it: `amount` in `currency`, and the rate if converted."""

    amount: int
    currency: str
    rate: Decimal | None = None

    @property
    def exchange_rate(self) -> float | None:
        return None if self.rate is None else fx.wire_rate(self.rate)


def currencies(store: Store, acct: AccountState) -> tuple[str, ...]:
    """The account's settlement currencies, its default first."""
    if acct.is_platform:
        cfg = store.config
        if cfg.default_currency not in cfg.settlement_currencies:
            return tuple(cfg.settlement_currencies)  # no bank in the default: the first listed
        rest = tuple(c for c in cfg.settlement_currencies if c != cfg.default_currency)
        return (cfg.default_currency, *rest)
    own = store.internal(acct, _KEY).get("currencies")
    if own:
        return tuple(own)
    account = store.platform.objects.get(acct.id) or {}
    return (account.get("default_currency") or store.config.default_currency,)


def default_currency(store: Store, acct: AccountState) -> str:
    return currencies(store, acct)[0]


def configure(store: Store, acct: AccountState, wanted: object,
              default: object = None) -> tuple[str, ...]:
    """Set the account's settlement currencies (`default` first; else the first listed)."""
    if not isinstance(wanted, list) or not wanted or not all(
        isinstance(c, str) and is_supported(c) for c in wanted
    ):
        raise ValueError("currencies must be a non-empty list of lowercase ISO currency codes")
    if default is not None and default not in wanted:
        raise ValueError("default_currency must be one of currencies")
    chosen = str(default or wanted[0])
    ordered = (chosen, *[c for c in wanted if c != chosen])
    if acct.is_platform:
        store.config.default_currency = chosen
        store.config.settlement_currencies = ordered
    else:
        store.internal(acct, _KEY)["currencies"] = ordered
        account = store.platform.objects.get(acct.id)
        if account is not None:
            account["default_currency"] = chosen
    return ordered


def settle(store: Store, acct: AccountState, amount: int, currency: str,
           rate: Decimal | None = None) -> Settled:
    """What `amount` of `currency` becomes on `acct`'s balance now (or at a given `rate`)."""
    if currency in currencies(store, acct):
        return Settled(amount, currency)
    target = default_currency(store, acct)
    if rate is None:
        rate = store.config.fx.rate(currency, target, store.now())
    return Settled(fx.convert(amount, currency, target, rate), target, rate)


def again(settled: Settled, presented: int, currency: str) -> int:
    """Another part of the same movement (an application fee, a transfer amount), presented
    in `currency`, in the settlement currency at the movement's own rate."""
    if settled.rate is None:
        return presented
    return fx.convert(presented, currency, settled.currency, settled.rate)
