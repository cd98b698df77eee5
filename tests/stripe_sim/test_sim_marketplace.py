"""The full marketplace flow through the real SDK, with webhooks verified by construct_event."""

from __future__ import annotations

import requests
import stripe
from sim_helpers import Control, Hooks

from stripe_sim.server import RunningSimulator


def _sum_txns(client: stripe.StripeClient, account: str | None = None) -> dict[str, int]:
    options: stripe.RequestOptions = {"stripe_account": account} if account else {}
    totals = {"available": 0, "pending": 0}
    for txn in client.v1.balance_transactions.list(
        params={"limit": 100}, options=options
    ).auto_paging_iter():
        totals[txn.status] += txn.net
    return totals


def _balance(client: stripe.StripeClient, account: str | None = None) -> dict[str, int]:
    options: stripe.RequestOptions = {"stripe_account": account} if account else {}
    bal = client.v1.balance.retrieve(options=options)
    return {
        "available": sum(b.amount for b in bal.available if b.currency == "usd"),
        "pending": sum(b.amount for b in bal.pending if b.currency == "usd"),
    }


def test_full_marketplace_flow(
    sim: RunningSimulator, client: stripe.StripeClient, ctl: Control, hooks: Hooks
) -> None:
    # A shipper pays for a load.
    customer = client.v1.customers.create(params={"email": "shipper@example.com"})
    pi = client.v1.payment_intents.create(
        params={
            "amount": 125_000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "transfer_group": "load_42",
            "metadata": {"load": "42"},
        }
    )
    assert pi.status == "succeeded"
    assert pi.amount_received == 125_000
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    txn = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (txn.amount, txn.fee, txn.net) == (125_000, 3_655, 121_345)  # 2.9% + 30c
    assert txn.type == "charge" and txn.reporting_category == "charge"
    assert txn.status == "pending" and txn.available_on > txn.created
    assert txn.fee_details[0].type == "stripe_fee"

    # Part of it is refunded; Stripe keeps its fee.
    refund = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 25_000, "reason": "requested_by_customer"}
    )
    assert refund.status == "succeeded" and refund.charge == charge.id
    rtxn = client.v1.balance_transactions.retrieve(str(refund.balance_transaction))
    assert (rtxn.amount, rtxn.fee, rtxn.net, rtxn.type) == (-25_000, 0, -25_000, "refund")
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 25_000

    # The carrier onboards as an Express account.
    acct = client.v1.accounts.create(
        params={
            "type": "express",
            "country": "US",
            "email": "carrier@example.com",
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    assert acct.type == "express" and not acct.payouts_enabled
    link = client.v1.account_links.create(
        params={
            "account": acct.id,
            "type": "account_onboarding",
            "refresh_url": "https://midway.example/refresh",
            "return_url": "https://midway.example/done",
        }
    )
    page = requests.get(link.url, allow_redirects=False, timeout=10)
    assert page.status_code == 302 and page.headers["Location"] == "https://midway.example/done"
    acct = client.v1.accounts.retrieve(acct.id)
    assert acct.payouts_enabled and acct.charges_enabled
    assert acct.capabilities and acct.capabilities.transfers == "active"

    # Funds settle, the carrier is paid by transfer, then pays out to the bank.
    ctl.advance(3 * 86_400)
    assert client.v1.balance_transactions.retrieve(txn.id).status == "available"
    transfer = client.v1.transfers.create(
        params={
            "amount": 90_000,
            "currency": "usd",
            "destination": acct.id,
            "transfer_group": "load_42",
        }
    )
    assert transfer.destination_payment
    on_acct: stripe.RequestOptions = {"stripe_account": acct.id}
    payment = client.v1.charges.retrieve(str(transfer.destination_payment), options=on_acct)
    assert payment.amount == 90_000 and payment.source_transfer == transfer.id
    payout = client.v1.payouts.create(params={"amount": 60_000, "currency": "usd"}, options=on_acct)
    assert payout.status == "pending"
    ptxn = client.v1.balance_transactions.retrieve(str(payout.balance_transaction), options=on_acct)
    assert (ptxn.amount, ptxn.type, ptxn.reporting_category) == (-60_000, "payout", "payout")
    ctl.advance(3 * 86_400)
    assert client.v1.payouts.retrieve(payout.id, options=on_acct).status == "paid"

    # Balances equal the sum of their balance transactions, on both accounts.
    assert _balance(client) == _sum_txns(client)
    assert _balance(client)["available"] == 121_345 - 25_000 - 90_000
    assert _balance(client, acct.id) == _sum_txns(client, acct.id)
    assert _balance(client, acct.id)["available"] == 30_000

    # Webhooks: all signed as Stripe signs, connected-account events carry `account`.
    ctl.drain()
    platform_events = hooks.verified(hooks.platform, hooks.platform_secret)
    connect_events = hooks.verified(hooks.connect, hooks.connect_secret)
    ptypes = [e.type for e in platform_events]
    for expected in (
        "customer.created",
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "refund.created",
        "charge.refunded",
        "transfer.created",
        "balance.available",
    ):
        assert expected in ptypes
    assert all(getattr(e, "account", None) is None for e in platform_events)
    ctypes = [e.type for e in connect_events]
    for expected in ("account.updated", "payout.created", "payout.updated", "payout.paid"):
        assert expected in ctypes
    assert {e.account for e in connect_events} == {acct.id}
    succeeded = next(e for e in platform_events if e.type == "payment_intent.succeeded")
    assert succeeded.data.object.id == pi.id
    paid = next(e for e in connect_events if e.type == "payout.paid")
    assert paid.data.object.status == "paid"
    assert paid.data.previous_attributes.status == "in_transit"


def test_events_api_lists_per_account(client: stripe.StripeClient, ctl: Control) -> None:
    acct = client.v1.accounts.create(params={"type": "express"})
    ctl.onboard(acct.id)
    client.v1.customers.create()
    platform_types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "customer.created" in platform_types and "account.updated" not in platform_types
    connected = client.v1.events.list(
        params={"limit": 100}, options={"stripe_account": acct.id}
    ).data
    assert [e.type for e in connected] == ["account.updated"]
    assert connected[0].account == acct.id
    filtered = client.v1.events.list(params={"type": "customer.*"}).data
    assert [e.type for e in filtered] == ["customer.created"]
    again = client.v1.events.retrieve(filtered[0].id)
    assert again.data.object.object == "customer"
