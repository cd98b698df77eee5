"""StripeGateway: every Stripe call we make, with timeouts, retries and idempotency keys.

Idempotency keys are derived from our own rows (`charge:<payment id>`, `refund:<refund id>`,
`transfer:<batch id>`, `payout:<batch id>`, …), never random, so a job that runs twice sends
the same request twice and Stripe performs it once. The SDK's own network retries reuse the
key. Results come back as plain dicts (Stripe's JSON), so the domain never handles SDK types.
Ids are placed in paths only after checking they are plain Stripe ids (letters, digits, _).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import stripe

from config import Settings
from payments.errors import StripeRequestRefused, StripeUnavailable
from payments.gateway.errors import translate
from payments.gateway.guard import CallGuard, NoGuard

StripeJSON = dict[str, Any]
_SAFE_PATH = re.compile(r"/v1(/[A-Za-z0-9_]+)+")


class GuardedRequestsClient(stripe.RequestsClient):
    """The SDK's HTTP client, with the guard's wait (rate slot, open breaker) right before each
    request goes out: the SDK's own network retries are paced too, and nothing between the
    slot and the send (building the request) can bunch calls."""

    def __init__(self, guard: CallGuard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._guard = guard

    def request(  # type: ignore[override]  # RequestsClient's own signature, not HTTPClient's
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        self._guard.before_call()
        return super().request(method, url, headers, post_data)


def make_stripe_client(
    settings: Settings, api_base: str, guard: CallGuard | None = None
) -> stripe.StripeClient:
    """A StripeClient for the configured account, pointed at api_base (Stripe or stripe_sim);
    with a guard, every request waits for it (give the gateway the same guard)."""
    timeout = (settings.stripe_connect_timeout_s, settings.stripe_read_timeout_s)
    http_client = (
        GuardedRequestsClient(guard, timeout=timeout)
        if guard is not None
        else stripe.RequestsClient(timeout=timeout)
    )
    return stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": api_base, "files": api_base, "connect": api_base},
        max_network_retries=settings.stripe_max_network_retries,
        http_client=http_client,
    )


class StripeGateway:
    """Stripe calls for the domain. The guard's wait happens in the client's HTTP layer
    (make_stripe_client); the gateway tells the guard how each call ended."""

    def __init__(self, client: stripe.StripeClient, guard: CallGuard | None = None) -> None:
        self._client = client
        self._guard = guard or NoGuard()

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        account: str | None = None,
    ) -> StripeJSON:
        """One API call through the SDK's requestor (auth, retries with the same idempotency
        key, error types), answered as plain JSON: building SDK objects for every response
        cost more CPU than the rest of a charge job's Python put together."""
        if not _SAFE_PATH.fullmatch(path):
            raise StripeRequestRefused(f"not a Stripe id in {path!r}", code="resource_missing")
        options: dict[str, Any] = {}
        if key is not None:
            options["idempotency_key"] = key
        if account is not None:
            options["stripe_account"] = account
        try:
            response = self._client.raw_request(method, path, **(params or {}), **options)
        except stripe.StripeError as error:
            mapped = translate(error)
            if isinstance(mapped, StripeUnavailable):
                self._guard.record_failure()
            else:
                self._guard.record_success()  # Stripe answered; it is up.
            raise mapped from error
        self._guard.record_success()
        return response.data

    # Customers ---------------------------------------------------------------------------

    def create_customer(self, shipper_id: int, *, name: str, email: str) -> StripeJSON:
        return self._request(
            "post",
            "/v1/customers",
            {"name": name, "email": email, "metadata": {"shipper_id": str(shipper_id)}},
            key=f"customer:{shipper_id}",
        )

    # Payment methods (tokens only: pm_… ids, never card data) ----------------------------

    def list_payment_methods(self, customer: str) -> StripeJSON:
        return self._request("get", f"/v1/customers/{customer}/payment_methods", {"limit": 100})

    def attach_payment_method(
        self, shipper_id: int, payment_method: str, *, customer: str
    ) -> StripeJSON:
        return self._request(
            "post",
            f"/v1/payment_methods/{payment_method}/attach",
            {"customer": customer},
            key=f"attach:{shipper_id}:{payment_method}",
        )

    def retrieve_payment_method(self, payment_method: str) -> StripeJSON:
        return self._request("get", f"/v1/payment_methods/{payment_method}")

    def detach_payment_method(self, payment_method: str) -> StripeJSON:
        return self._request(
            "post",
            f"/v1/payment_methods/{payment_method}/detach",
            key=f"detach:{payment_method}",
        )

    # Payments ----------------------------------------------------------------------------

    def create_payment_intent(
        self,
        payment_id: int,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        payment_method: str | None,
        confirm: bool,
        transfer_group: str,
        description: str | None,
        metadata: dict[str, str],
    ) -> StripeJSON:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "transfer_group": transfer_group,
            "metadata": metadata,
            "expand": ["latest_charge.balance_transaction"],
        }
        if customer:
            params["customer"] = customer
        if description:
            params["description"] = description
        if payment_method:
            params["payment_method"] = payment_method
            params["confirm"] = confirm
        return self._request("post", "/v1/payment_intents", params, key=f"charge:{payment_id}")

    def confirm_payment_intent(
        self, payment_id: int, payment_intent: str, *, payment_method: str
    ) -> StripeJSON:
        return self._request(
            "post",
            f"/v1/payment_intents/{payment_intent}/confirm",
            {"payment_method": payment_method, "expand": ["latest_charge.balance_transaction"]},
            key=f"confirm:{payment_id}:{payment_method}",
        )

    def retrieve_payment_intent(self, payment_intent: str) -> StripeJSON:
        return self._request(
            "get",
            f"/v1/payment_intents/{payment_intent}",
            {"expand": ["latest_charge.balance_transaction"]},
        )

    def create_refund(
        self, refund_id: int, *, payment_intent: str, amount: int, reason: str | None
    ) -> StripeJSON:
        params: dict[str, Any] = {
            "payment_intent": payment_intent,
            "amount": amount,
            "metadata": {"refund_id": str(refund_id)},
            "expand": ["balance_transaction"],
        }
        if reason:
            params["reason"] = reason
        return self._request("post", "/v1/refunds", params, key=f"refund:{refund_id}")

    def retrieve_refund(self, refund: str) -> StripeJSON:
        return self._request("get", f"/v1/refunds/{refund}", {"expand": ["balance_transaction"]})

    # Connect -----------------------------------------------------------------------------

    def create_connected_account(
        self, carrier_id: int, *, email: str, country: str, currency: str
    ) -> StripeJSON:
        return self._request(
            "post",
            "/v1/accounts",
            {
                "type": "express",
                "email": email,
                "country": country,
                "default_currency": currency,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"carrier_id": str(carrier_id)},
            },
            key=f"account:{carrier_id}",
        )

    def retrieve_account(self, account: str) -> StripeJSON:
        return self._request("get", f"/v1/accounts/{account}")

    def create_account_link(
        self, account: str, *, refresh_url: str, return_url: str, key: str
    ) -> StripeJSON:
        return self._request(
            "post",
            "/v1/account_links",
            {
                "account": account,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
            key=key,
        )

    def create_transfer(
        self, key: str, *, amount: int, currency: str, destination: str, metadata: dict[str, str]
    ) -> StripeJSON:
        return self._request(
            "post",
            "/v1/transfers",
            {
                "amount": amount,
                "currency": currency,
                "destination": destination,
                "metadata": metadata,
                "expand": ["balance_transaction"],
            },
            key=key,
        )

    def create_payout(
        self,
        key: str,
        *,
        amount: int,
        currency: str,
        method: str,
        account: str,
        metadata: dict[str, str],
    ) -> StripeJSON:
        return self._request(
            "post",
            "/v1/payouts",
            {
                "amount": amount,
                "currency": currency,
                "method": method,
                "metadata": metadata,
                "expand": ["balance_transaction"],
            },
            key=key,
            account=account,
        )

    def retrieve_payout(self, payout: str, *, account: str) -> StripeJSON:
        return self._request(
            "get",
            f"/v1/payouts/{payout}",
            {"expand": ["balance_transaction", "failure_balance_transaction"]},
            account=account,
        )

    def retrieve_charge(self, charge: str, *, account: str | None = None) -> StripeJSON:
        """A charge with its balance transaction; on a connected account for a py_ payment."""
        return self._request(
            "get", f"/v1/charges/{charge}", {"expand": ["balance_transaction"]}, account=account
        )

    def retrieve_balance_transaction(self, txn: str, *, account: str | None = None) -> StripeJSON:
        return self._request("get", f"/v1/balance_transactions/{txn}", account=account)

    def list_events(
        self, *, created_gt: int, limit: int = 100, account: str | None = None, **filters: Any
    ) -> StripeJSON:
        """One page of events (of a connected account with `account`); newest first."""
        return self._request(
            "get",
            "/v1/events",
            {"created": {"gt": created_gt}, "limit": limit, **filters},
            account=account,
        )
