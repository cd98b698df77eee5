"""Finding what Stripe did when our request's outcome is unknown, before sending anything new.

After a 500 that Stripe replays for our key, a timeout, a dropped connection, a 409 for a key
in use, or with a key older than Stripe's 24 hours, the same request cannot tell us whether
Stripe acted. We look for the object carrying our marker (metadata `payment_id`, `refund_id`,
`batch_id`) with list filters, which are immediately consistent — unlike the Search API, which
Stripe says not to use for read-after-write flows because new objects take up to a minute to
be indexed (https://docs.stripe.com/search). An empty list is therefore authoritative: Stripe
certainly has no such object and a new request is safe. A list longer than we are willing to
page through is inconclusive (LookupInconclusive), never "not found". With an installation
namespace, an object created by another installation on the same Stripe account (its
`midway_key` marker under another namespace) is never taken for ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from payments.errors import Unsettled
from payments.gateway.calls import StripeCalls
from payments.gateway.reading import Data
from payments.gateway.records import PaymentIntent, Payout, Refund, Transfer

T = TypeVar("T")
PAGE = 100
MAX_PAGES = 50


class LookupInconclusive(Unsettled):
    """More objects to page through than a look-up may read: the answer is unknown."""


class Lookups(StripeCalls):
    """Look-ups by our marker; mixed into StripeGateway, which supplies `_request`."""

    key_namespace: str = ""
    created_by_key: str = "midway_key"

    def _marked(
        self,
        path: str,
        filters: dict[str, Any],
        marker: tuple[str, str],
        parse: Callable[[Data], T],
        *,
        account: str | None = None,
    ) -> list[T]:
        """Every object of a filtered list whose metadata carries `marker` (newest first), read
        into its record (only those: the rest of a page is not ours to read)."""
        name, value = marker
        found: list[T] = []
        params: dict[str, Any] = {**filters, "limit": PAGE}
        for _ in range(MAX_PAGES):
            page = self._request("get", path, params, account=account)
            data = page.get("data") or []
            found.extend(parse(o) for o in data if self._ours(o.get("metadata") or {}, name, value))
            if not page.get("has_more") or not data:
                return found
            params = {**params, "starting_after": data[-1]["id"]}
        raise LookupInconclusive(
            f"more than {PAGE * MAX_PAGES} objects at {path} {filters}: cannot tell whether "
            f"Stripe holds one with {name}={value}"
        )

    def _ours(self, metadata: Mapping[str, Any], name: str, value: str) -> bool:
        if metadata.get(name) != value:
            return False
        if not self.key_namespace:
            return True
        return str(metadata.get(self.created_by_key, "")).startswith(f"{self.key_namespace}:")

    def find_payment_intents(self, payment_id: int, *, customer: str) -> list[PaymentIntent]:
        """The customer's PaymentIntents marked with our payment id."""
        return self._marked(
            "/v1/payment_intents",
            {"customer": customer},
            ("payment_id", str(payment_id)),
            PaymentIntent.from_stripe,
        )

    def find_refunds(self, refund_id: int, *, payment_intent: str) -> list[Refund]:
        return self._marked(
            "/v1/refunds",
            {"payment_intent": payment_intent},
            ("refund_id", str(refund_id)),
            Refund.from_stripe,
        )

    def find_transfers(self, batch_id: int, *, destination: str) -> list[Transfer]:
        return self._marked(
            "/v1/transfers",
            {"destination": destination},
            ("batch_id", str(batch_id)),
            Transfer.from_stripe,
        )

    def find_payouts(self, batch_id: int, *, account: str) -> list[Payout]:
        """Payouts on the carrier's connected account marked with our batch id."""
        return self._marked(
            "/v1/payouts", {}, ("batch_id", str(batch_id)), Payout.from_stripe, account=account
        )
