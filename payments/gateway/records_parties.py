"""Stripe's customers, connected accounts, account links and payment methods as typed records
(only what our code reads; see records.py for the conventions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payments.gateway.reading import Data, Reader


@dataclass(frozen=True, slots=True)
class Customer:
    id: str

    @classmethod
    def from_stripe(cls, data: Data) -> Customer:
        return cls(id=Reader(data, "customer").text("id"))


@dataclass(frozen=True, slots=True)
class AccountRequirements:
    """What Stripe still needs from a connected account before it can be paid."""

    currently_due: tuple[str, ...] | None
    eventually_due: tuple[str, ...] | None
    past_due: tuple[str, ...] | None
    disabled_reason: str | None

    @classmethod
    def from_stripe(cls, data: Data) -> AccountRequirements:
        r = Reader(data, "account.requirements")
        return cls(
            currently_due=_names(data.get("currently_due")),
            eventually_due=_names(data.get("eventually_due")),
            past_due=_names(data.get("past_due")),
            disabled_reason=r.opt_text("disabled_reason"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "currently_due": _listed(self.currently_due),
            "eventually_due": _listed(self.eventually_due),
            "past_due": _listed(self.past_due),
            "disabled_reason": self.disabled_reason,
        }


def _names(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(str(item) for item in value)


def _listed(names: tuple[str, ...] | None) -> list[str] | None:
    return None if names is None else list(names)


@dataclass(frozen=True, slots=True)
class Account:
    """A connected (Express) account: whether Stripe lets the carrier be charged and paid."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    requirements: AccountRequirements | None

    @classmethod
    def from_stripe(cls, data: Data) -> Account:
        r = Reader(data, "account")
        return cls(
            id=r.text("id"),
            charges_enabled=r.flag("charges_enabled"),
            payouts_enabled=r.flag("payouts_enabled"),
            requirements=r.nested("requirements", AccountRequirements.from_stripe),
        )


@dataclass(frozen=True, slots=True)
class AccountLink:
    url: str
    expires_at: int | None

    @classmethod
    def from_stripe(cls, data: Data) -> AccountLink:
        r = Reader(data, "account_link")
        return cls(url=r.text("url"), expires_at=r.opt_integer("expires_at"))


CARD_FIELDS = ("brand", "last4", "exp_month", "exp_year", "funding", "country")


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A saved payment method as we may show it: the card's brand, last four and expiry at
    most (`card` holds only CARD_FIELDS); never a number."""

    id: str
    type: str | None
    created: int | None
    customer: str | None
    card: Mapping[str, Any] | None

    @classmethod
    def from_stripe(cls, data: Data) -> PaymentMethod:
        r = Reader(data, "payment_method")
        card = data.get("card")
        return cls(
            id=r.text("id"),
            type=r.opt_text("type"),
            created=r.opt_unix("created"),
            customer=r.ref("customer"),
            card={k: card.get(k) for k in CARD_FIELDS}
            if isinstance(card, Mapping) and card
            else None,
        )
