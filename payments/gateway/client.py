"""StripeGateway: every Stripe call we make, with timeouts, retries and idempotency keys.

Idempotency keys are derived from our own rows (`charge:<payment id>`, `refund:<refund id>`,
`transfer:<batch id>`, `payout:<batch id>`, …), never random, so a job that runs twice sends
the same request twice and Stripe performs it once. The SDK's own network retries reuse the
key. Results come back as plain dicts (Stripe's JSON), so the domain never handles SDK types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from config import Settings
from payments.errors import StripeUnavailable
from payments.gateway.errors import translate
from payments.gateway.guard import CallGuard, NoGuard

StripeJSON = dict[str, Any]


def make_stripe_client(settings: Settings, api_base: str) -> stripe.StripeClient:
    """A StripeClient for the configured account, pointed at api_base (Stripe or stripe_sim)."""
    http_client = stripe.RequestsClient(
        timeout=(settings.stripe_connect_timeout_s, settings.stripe_read_timeout_s)
    )
    return stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": api_base, "files": api_base, "connect": api_base},
        max_network_retries=settings.stripe_max_network_retries,
        http_client=http_client,
    )


class StripeGateway:
    def __init__(self, client: stripe.StripeClient, guard: CallGuard | None = None) -> None:
        self._stripe = client.v1
        self._guard = guard or NoGuard()

    def _call(self, request: Callable[[], Any]) -> StripeJSON:
        self._guard.before_call()
        try:
            result = request()
        except stripe.StripeError as error:
            mapped = translate(error)
            if isinstance(mapped, StripeUnavailable):
                self._guard.record_failure()
            else:
                self._guard.record_success()  # Stripe answered; it is up.
            raise mapped from error
        self._guard.record_success()
        return result.to_dict() if hasattr(result, "to_dict") else dict(result)

    # Customers ---------------------------------------------------------------------------

    def create_customer(self, shipper_id: int, *, name: str, email: str) -> StripeJSON:
        return self._call(
            lambda: self._stripe.customers.create(
                params={"name": name, "email": email, "metadata": {"shipper_id": str(shipper_id)}},
                options={"idempotency_key": f"customer:{shipper_id}"},
            )
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
        return self._call(
            lambda: self._stripe.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"charge:{payment_id}"},
            )
        )

    def confirm_payment_intent(
        self, payment_id: int, payment_intent: str, *, payment_method: str
    ) -> StripeJSON:
        return self._call(
            lambda: self._stripe.payment_intents.confirm(
                payment_intent,
                params={
                    "payment_method": payment_method,
                    "expand": ["latest_charge.balance_transaction"],
                },
                options={"idempotency_key": f"confirm:{payment_id}:{payment_method}"},
            )
        )

    def retrieve_payment_intent(self, payment_intent: str) -> StripeJSON:
        return self._call(
            lambda: self._stripe.payment_intents.retrieve(
                payment_intent, params={"expand": ["latest_charge.balance_transaction"]}
            )
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
        return self._call(
            lambda: self._stripe.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"refund:{refund_id}"},
            )
        )

    def retrieve_refund(self, refund: str) -> StripeJSON:
        return self._call(
            lambda: self._stripe.refunds.retrieve(
                refund, params={"expand": ["balance_transaction"]}
            )
        )

    # Connect -----------------------------------------------------------------------------

    def create_connected_account(
        self, carrier_id: int, *, email: str, country: str, currency: str
    ) -> StripeJSON:
        return self._call(
            lambda: self._stripe.accounts.create(
                params={
                    "type": "express",
                    "email": email,
                    "country": country,
                    "default_currency": currency,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": {"carrier_id": str(carrier_id)},
                },
                options={"idempotency_key": f"account:{carrier_id}"},
            )
        )

    def retrieve_account(self, account: str) -> StripeJSON:
        return self._call(lambda: self._stripe.accounts.retrieve(account))

    def create_account_link(
        self, account: str, *, refresh_url: str, return_url: str, key: str
    ) -> StripeJSON:
        return self._call(
            lambda: self._stripe.account_links.create(
                params={
                    "account": account,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                },
                options={"idempotency_key": key},
            )
        )

    def create_transfer(
        self, key: str, *, amount: int, currency: str, destination: str, metadata: dict[str, str]
    ) -> StripeJSON:
        return self._call(
            lambda: self._stripe.transfers.create(
                params={
                    "amount": amount,
                    "currency": currency,
                    "destination": destination,
                    "metadata": metadata,
                    "expand": ["balance_transaction"],
                },
                options={"idempotency_key": key},
            )
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
        return self._call(
            lambda: self._stripe.payouts.create(
                params={
                    "amount": amount,
                    "currency": currency,
                    "method": method,
                    "metadata": metadata,
                    "expand": ["balance_transaction"],
                },
                options={"idempotency_key": key, "stripe_account": account},
            )
        )

    def retrieve_payout(self, payout: str, *, account: str) -> StripeJSON:
        return self._call(
            lambda: self._stripe.payouts.retrieve(
                payout,
                params={"expand": ["balance_transaction", "failure_balance_transaction"]},
                options={"stripe_account": account},
            )
        )

    def retrieve_charge(self, charge: str, *, account: str | None = None) -> StripeJSON:
        """A charge with its balance transaction; on a connected account for a py_ payment."""
        options: dict[str, Any] = {"stripe_account": account} if account else {}
        return self._call(
            lambda: self._stripe.charges.retrieve(
                charge,
                params={"expand": ["balance_transaction"]},
                options=options,  # type: ignore[arg-type]
            )
        )

    def retrieve_balance_transaction(self, txn: str, *, account: str | None = None) -> StripeJSON:
        options: dict[str, Any] = {"stripe_account": account} if account else {}
        return self._call(
            lambda: self._stripe.balance_transactions.retrieve(
                txn,
                options=options,  # type: ignore[arg-type]
            )
        )

    def list_events(self, *, created_gt: int, limit: int = 100, **filters: Any) -> StripeJSON:
        """One page of events, oldest first is not guaranteed: Stripe lists newest first."""
        params: dict[str, Any] = {"created": {"gt": created_gt}, "limit": limit, **filters}
        return self._call(
            lambda: self._stripe.events.list(params=params)  # type: ignore[arg-type]
        )
