"""The marketplace's week: shippers pay for loads, carriers get paid, some things go wrong.

Everything goes through the real paths: the HTTP API for what backend services do, stripe_sim's
own API for what happens at Stripe, the real actors for the work, and the simulator's clock for
time. Amounts are integers in minor units throughout.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import requests

from demo.api import BackendApi
from demo.stack import Stack
from reconciliation.stripe_http import send_rate_limited

HOUR = 3600
DAY = 24 * HOUR

# What shippers pay with: mostly cards whose funds land at once (Stripe's test-mode card for
# that), some regular cards and bank debits (funds pending), a few that decline.
METHODS = (
    ["pm_card_bypassPending"] * 70
    + ["pm_card_visa"] * 12
    + ["pm_card_mastercard"] * 8
    + ["pm_usBankAccount"] * 6
    + ["pm_card_chargeDeclined", "pm_card_insufficientFunds"] * 2
)
# Loads priced in a shipper's own currency: the platform settles in usd (Stripe converts the
# rest) and pays every carrier in usd. Bank debits are usd only (ACH).
CARD_METHODS = [m for m in METHODS if m.startswith("pm_card")]
FOREIGN_CURRENCIES = {3: "jpy", 7: "cad"}  # load index % 10 -> currency; the rest usd
CARRIERS = [
    # name, country, currency, payout method
    ("Blue Ridge Hauling", "US", "usd", "standard"),
    ("Prairie Freight", "US", "usd", "standard"),
    ("Gulf Coast Carriers", "US", "usd", "instant"),
    ("Great Lakes Logistics", "US", "usd", "standard"),
    ("Keystone Trucking", "US", "usd", "standard"),
    ("Pacific Rim Drayage", "US", "usd", "standard"),
    ("Northern Border Freight", "US", "usd", "standard"),
]
# The clock moves on once per this many loads; the loads in between are posted by POSTERS
# backend instances at once.
CLOCK_STEP = 25
POSTERS = 4
# What a load in each currency costs, in its minor units.
PRICE_RANGE = {"usd": (15_000, 350_000), "cad": (20_000, 450_000), "jpy": (20_000, 400_000)}


def at(day: date, hour: float = 0) -> int:
    """Unix seconds of an hour of a (UTC) day."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int((start + timedelta(hours=hour)).timestamp())


@dataclass
class Marketplace:
    stack: Stack
    api: BackendApi
    rng: random.Random
    shippers: list[int] = field(default_factory=list)
    carriers: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (currency, acct)
    payments: list[dict[str, Any]] = field(default_factory=list)
    instant_carriers: set[int] = field(default_factory=set)
    # Bank debits planted to be returned: the week runs on until their banks have answered.
    returned_debits: list[int] = field(default_factory=list)
    loads: int = 0

    # Stripe's side: the simulator's control API and its plain REST API -------------------

    def sim(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.stack.sim.url}/_sim/{path}", json=body or {}, timeout=30)
        response.raise_for_status()
        return response.json()

    def add_fault(self, rule: dict[str, Any]) -> None:
        """Add a fault rule to those already armed (a rule with "next" expires by itself)."""
        self.sim("faults", {"rules": [*self._armed_faults(), rule]})

    def remove_faults(self, *kinds: str) -> None:
        kept = [r for r in self._armed_faults() if not set(kinds) & set(r)]
        self.sim("faults", {"rules": kept})

    def _armed_faults(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.stack.sim.url}/_sim/faults", timeout=30)
        response.raise_for_status()
        return list(response.json()["rules"])

    def stripe(self, method: str, path: str, _account: str | None = None, **params: Any) -> Any:
        """A call made directly at Stripe (the dashboard), not by our system."""
        headers = {"Authorization": f"Bearer {self.stack.settings.stripe_api_key}"}
        if _account:
            headers["Stripe-Account"] = _account
        # Stripe's rate limit counts these calls too: back off on 429 as our reads do.
        response = send_rate_limited(
            lambda: requests.request(
                method,
                f"{self.stack.sim.url}{path}",
                params=params if method == "get" else None,
                data=params if method != "get" else None,
                headers=headers,
                timeout=30,
            )
        )
        response.raise_for_status()
        return response.json()

    def set_clock(self, unix: int) -> None:
        self.sim("clock", {"set": unix, "freeze": True})

    # The week ----------------------------------------------------------------------------

    def open(self, first_day: date, shippers: int = 14) -> None:
        self.set_clock(at(first_day, 6))
        for index in range(shippers):
            body = {
                "name": f"Shipper {index + 1}",
                "email": f"ap{index + 1}@shipper.test",
                "external_id": f"shipper-{index + 1}",
            }
            self.shippers.append(self.api.post("/api/customers", body)["id"])
        for name, country, currency, method in CARRIERS:
            slug = name.lower().replace(" ", "-")
            carrier = self.api.post(
                "/api/carriers",
                {
                    "name": name,
                    "email": f"pay@{slug}.test",
                    "country": country,
                    "default_currency": currency,
                    "payout_method": method,
                },
            )
            self.api.post("/api/payouts/connect/accounts", {"carrier_id": carrier["id"]})
            self.carriers[carrier["id"]] = (currency, "")
            if method == "instant":
                self.instant_carriers.add(carrier["id"])
        self.stack.drain()
        for carrier_id, (currency, _) in list(self.carriers.items()):
            account = self.api.get(f"/api/payouts/connect/accounts/{carrier_id}")
            acct = account["stripe_account"]
            self.sim(f"accounts/{acct}/complete_onboarding")  # the carrier fills in Stripe's form
            self.carriers[carrier_id] = (currency, acct)
        self.stack.drain()

    def pay_for_loads(
        self, day: date, loads: int, *, method: str | None = None, currency: str | None = None
    ) -> list[int]:
        """A day of loads, spread over business hours; returns the payment ids."""
        bodies = [self._load(currency, method) for _ in range(loads)]
        ids = []
        with ThreadPoolExecutor(POSTERS, thread_name_prefix="backend") as posters:
            for first in range(0, loads, CLOCK_STEP):
                self.set_clock(at(day, 8 + 10 * first / max(loads, 1)))
                stretch = bodies[first : first + CLOCK_STEP]
                answers = posters.map(partial(self.api.post, "/api/payments/intent"), stretch)
                for body, payment in zip(stretch, answers, strict=True):
                    self.payments.append(
                        {"id": payment["id"], "day": day, "currency": body["currency"]}
                    )
                    ids.append(payment["id"])
        return ids

    def _load(self, currency: str | None, method: str | None) -> dict[str, Any]:
        """The next load's payment request (the rng drawn in one fixed order)."""
        carrier_id = self.rng.choice(list(self.carriers))
        load_currency = currency or FOREIGN_CURRENCIES.get(self.loads % 10, "usd")
        amount = self.rng.randrange(*PRICE_RANGE[load_currency])
        methods = METHODS if load_currency == "usd" else CARD_METHODS
        self.loads += 1
        return {
            "customer_id": self.rng.choice(self.shippers),
            "load_id": f"load-{self.loads:05d}",
            "amount": amount,
            "currency": load_currency,
            "carrier_id": carrier_id,
            "carrier_amount": amount * self.rng.choice((80, 85, 88)) // 100,
            "payment_method": method or self.rng.choice(methods),
        }

    def refund_some(self, day: date, payment_ids: list[int], share: float = 0.06) -> int:
        """Refunds requested by customer service: some full, some partial (damaged freight)."""
        self.set_clock(at(day, 19))
        refunded = 0
        for payment_id in payment_ids:
            if self.rng.random() >= share:
                continue
            payment = self.api.get(f"/api/payments/{payment_id}")
            if payment["status"] != "succeeded":
                continue
            body: dict[str, Any] = {"reason": "requested_by_customer"}
            if self.rng.random() < 0.5:
                body["amount"] = payment["amount"] * self.rng.choice((10, 25, 50)) // 100
            self.api.post(f"/api/payments/{payment_id}/refund", body)
            refunded += 1
        return refunded
