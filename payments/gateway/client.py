"""StripeGateway: every Stripe call we make, with timeouts, retries and idempotency keys.

Idempotency keys are derived from our own rows (`charge:<payment id>`, `refund:<refund id>`,
`transfer:<batch id>`, `payout:<batch id>`, …), never random, so a job that runs twice sends
the same request twice and Stripe performs it once. The SDK's own network retries reuse the
key. Results come back as our typed records (records.py), read from Stripe's JSON, so the domain
never handles SDK types or string keys.
Ids are placed in paths only after checking they are plain Stripe ids (letters, digits, _).
"""

from __future__ import annotations

import re
from typing import Any

import stripe

from config import Settings
from payments.errors import StripeRequestRefused, StripeUnavailable
from payments.gateway.calls import StripeJSON
from payments.gateway.connect import ConnectCalls
from payments.gateway.errors import translate
from payments.gateway.guard import CallGuard, NoGuard
from payments.gateway.lookups import Lookups
from payments.gateway.pacing import WaitingRequestsClient, shared_pacer, waiting_on
from payments.gateway.records import (
    BalanceTransaction,
    Charge,
    PaymentIntent,
    Refund,
)
from payments.gateway.records_events import Event, Page
from payments.gateway.records_parties import Customer, PaymentMethod

_SAFE_PATH = re.compile(r"/v1(/[A-Za-z0-9_]+)+")


def make_stripe_client(
    settings: Settings, api_base: str, guard: CallGuard | None = None
) -> stripe.StripeClient:
    """A StripeClient for the configured account, pointed at api_base (Stripe or stripe_sim).

    Every request (the SDK's own retries too) waits first: for the guard's shared slot when one
    is given (workers: give the gateway the same guard), else for this process's pacer under
    STRIPE_RATE_LIMIT_PER_S (the web, tools, tests; see pacing.py)."""
    timeout = (settings.stripe_connect_timeout_s, settings.stripe_read_timeout_s)
    wait = (
        guard.before_send
        if guard is not None
        else shared_pacer(settings.stripe_rate_limit_per_s).wait
    )
    http_client = WaitingRequestsClient(wait, timeout=timeout)
    return stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": api_base, "files": api_base, "connect": api_base},
        max_network_retries=settings.stripe_max_network_retries,
        http_client=http_client,
    )


# A PaymentIntent with its charge's balance transactions: what Stripe moved, and for a returned
# bank debit what it took back (the booking rules need both, without another request).
INTENT_EXPAND = ["latest_charge.balance_transaction", "latest_charge.failure_balance_transaction"]
# Metadata key on every object we create: the (namespaced) idempotency key that created it,
# our marker in payments.ownership.
CREATED_BY_KEY = "midway_key"


class StripeGateway(Lookups, ConnectCalls):
    """Stripe calls for the domain. The guard's wait happens in the client's HTTP layer
    (make_stripe_client); the gateway tells the guard how each call ended."""

    created_by_key = CREATED_BY_KEY

    def __init__(
        self,
        client: stripe.StripeClient,
        guard: CallGuard | None = None,
        *,
        return_url: str | None = None,
        key_namespace: str = "",
        own_wait: bool = False,
    ) -> None:
        self._client = client
        self._guard = guard or NoGuard()
        # Whether calls wait on this guard rather than on the one the client was built with.
        self._wait = self._guard.before_send if own_wait else None
        # STRIPE_RETURN_URL: see _redirect_params.
        self._return_url = return_url
        # This installation's prefix on every idempotency key (payments.installation), so two
        # databases on one Stripe account never replay each other's requests.
        self.key_namespace = key_namespace

    def with_guard(self, guard: CallGuard) -> StripeGateway:
        """The same client and namespace, its calls waiting on another guard (the web's read
        budget) instead of the client's own."""
        return StripeGateway(
            self._client,
            guard,
            return_url=self._return_url,
            key_namespace=self.key_namespace,
            own_wait=True,
        )

    def idempotency_key(self, key: str) -> str:
        """The key Stripe sees for our row-derived `key`."""
        return f"{self.key_namespace}:{key}" if self.key_namespace else key

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
            options["idempotency_key"] = self.idempotency_key(key)
            if params is not None and isinstance(params.get("metadata"), dict):
                marker = {CREATED_BY_KEY: options["idempotency_key"]}
                params = {**params, "metadata": {**params["metadata"], **marker}}
        if account is not None:
            options["stripe_account"] = account
        try:
            with waiting_on(self._wait):
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

    def create_customer(self, shipper_id: int, *, name: str, email: str) -> Customer:
        return self._read(
            Customer.from_stripe,
            "post",
            "/v1/customers",
            {"name": name, "email": email, "metadata": {"shipper_id": str(shipper_id)}},
            key=f"customer:{shipper_id}",
        )

    # Payment methods (tokens only: pm_… ids, never card data) ----------------------------

    def list_payment_methods(self, customer: str) -> Page[PaymentMethod]:
        page = self._request("get", f"/v1/customers/{customer}/payment_methods", {"limit": 100})
        return Page.from_stripe(page, PaymentMethod.from_stripe)

    def attach_payment_method(
        self, shipper_id: int, payment_method: str, *, customer: str
    ) -> PaymentMethod:
        return self._read(
            PaymentMethod.from_stripe,
            "post",
            f"/v1/payment_methods/{payment_method}/attach",
            {"customer": customer},
            key=f"attach:{shipper_id}:{payment_method}",
        )

    def retrieve_payment_method(self, payment_method: str) -> PaymentMethod:
        return self._read(PaymentMethod.from_stripe, "get", f"/v1/payment_methods/{payment_method}")

    def detach_payment_method(self, payment_method: str) -> PaymentMethod:
        return self._read(
            PaymentMethod.from_stripe,
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
    ) -> PaymentIntent:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "transfer_group": transfer_group,
            "metadata": metadata,
            "expand": INTENT_EXPAND,
        }
        if customer:
            params["customer"] = customer
        if description:
            params["description"] = description
        if payment_method:
            params["payment_method"] = payment_method
            params["confirm"] = confirm
        params.update(self._redirect_params(confirming=bool(payment_method and confirm)))
        return self._read(
            PaymentIntent.from_stripe,
            "post",
            "/v1/payment_intents",
            params,
            key=f"charge:{payment_id}",
        )

    def _redirect_params(self, *, confirming: bool) -> dict[str, Any]:
        """How our PaymentIntents meet Stripe's redirect rule: automatic payment methods may
        redirect the customer, so a server-side confirmation needs a `return_url`
        (https://docs.stripe.com/api/payment_intents/confirm). Without STRIPE_RETURN_URL we
        confirm server-side only with methods that never redirect; with it, redirect-capable
        methods are allowed and every confirmation says where the customer comes back to."""
        if self._return_url is None:
            return {"automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
        return {"return_url": self._return_url} if confirming else {}

    def confirm_payment_intent(
        self, payment_id: int, payment_intent: str, *, payment_method: str
    ) -> PaymentIntent:
        params: dict[str, Any] = {
            "payment_method": payment_method,
            "expand": INTENT_EXPAND,
        }
        if self._return_url is not None:
            params["return_url"] = self._return_url
        return self._read(
            PaymentIntent.from_stripe,
            "post",
            f"/v1/payment_intents/{payment_intent}/confirm",
            params,
            key=f"confirm:{payment_id}:{payment_method}",
        )

    def retrieve_payment_intent(self, payment_intent: str) -> PaymentIntent:
        return self._read(
            PaymentIntent.from_stripe,
            "get",
            f"/v1/payment_intents/{payment_intent}",
            {"expand": INTENT_EXPAND},
        )

    def create_refund(
        self, refund_id: int, *, payment_intent: str, amount: int, reason: str | None
    ) -> Refund:
        params: dict[str, Any] = {
            "payment_intent": payment_intent,
            "amount": amount,
            "metadata": {"refund_id": str(refund_id)},
            "expand": ["balance_transaction"],
        }
        if reason:
            params["reason"] = reason
        return self._read(
            Refund.from_stripe, "post", "/v1/refunds", params, key=f"refund:{refund_id}"
        )

    def retrieve_refund(self, refund: str) -> Refund:
        return self._read(
            Refund.from_stripe, "get", f"/v1/refunds/{refund}", {"expand": ["balance_transaction"]}
        )

    def retrieve_charge(self, charge: str, *, account: str | None = None) -> Charge:
        """A charge with its balance transaction; on a connected account for a py_ payment."""
        return self._read(
            Charge.from_stripe,
            "get",
            f"/v1/charges/{charge}",
            {"expand": ["balance_transaction"]},
            account=account,
        )

    def retrieve_balance_transaction(
        self, txn: str, *, account: str | None = None
    ) -> BalanceTransaction:
        return self._read(
            BalanceTransaction.from_stripe,
            "get",
            f"/v1/balance_transactions/{txn}",
            account=account,
        )

    def list_events(
        self, *, created_gt: int, limit: int = 100, account: str | None = None, **filters: Any
    ) -> Page[Event]:
        """One page of events (of a connected account with `account`); newest first."""
        page = self._request(
            "get",
            "/v1/events",
            {"created": {"gt": created_gt}, "limit": limit, **filters},
            account=account,
        )
        return Page.from_stripe(page, Event.from_stripe)
