"""Stripe Connect calls of the gateway: carriers' Express accounts, onboarding links, transfers
to their connected balances and payouts from there to their banks.

A mixin of StripeGateway (client.py); `_read` (calls.py) makes one request and reads its
answer into our record. Idempotency keys are derived from our rows as for every other call.
"""

from __future__ import annotations

from payments.gateway.calls import StripeCalls
from payments.gateway.records import Payout, Transfer
from payments.gateway.records_parties import Account, AccountLink


class ConnectCalls(StripeCalls):
    """Accounts, account links, transfers and payouts; mixed into StripeGateway."""

    def create_connected_account(
        self, carrier_id: int, *, email: str, country: str, currency: str
    ) -> Account:
        return self._read(
            Account.from_stripe,
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

    def retrieve_account(self, account: str) -> Account:
        return self._read(Account.from_stripe, "get", f"/v1/accounts/{account}")

    def create_account_link(
        self, account: str, *, refresh_url: str, return_url: str, key: str
    ) -> AccountLink:
        return self._read(
            AccountLink.from_stripe,
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
    ) -> Transfer:
        return self._read(
            Transfer.from_stripe,
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

    def retrieve_transfer(self, transfer: str) -> Transfer:
        return self._read(
            Transfer.from_stripe,
            "get",
            f"/v1/transfers/{transfer}",
            {"expand": ["balance_transaction"]},
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
    ) -> Payout:
        return self._read(
            Payout.from_stripe,
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

    def retrieve_payout(self, payout: str, *, account: str) -> Payout:
        return self._read(
            Payout.from_stripe,
            "get",
            f"/v1/payouts/{payout}",
            {"expand": ["balance_transaction", "failure_balance_transaction"]},
            account=account,
        )
