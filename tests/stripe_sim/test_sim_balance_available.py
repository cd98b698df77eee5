"""`balance.available`: sent when pending funds become available as the simulated clock moves."""

from __future__ import annotations

from typing import Any

import stripe
from sim_helpers import Control, Hooks

START = 1_700_000_000  # 2023-11-14 22:13:20 UTC
AVAILABLE_ON = 1_699_920_000 + 2 * 86_400  # midnight UTC two days after the charge


def _charge(
    client: stripe.StripeClient, amount: int, options: stripe.RequestOptions | None = None
) -> None:
    client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        },
        options=options or {},
    )


def _available_events(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type == "balance.available"]


def test_balance_available_fires_once_funds_settle(
    client: stripe.StripeClient, ctl: Control, hooks: Hooks
) -> None:
    ctl.post("clock", {"set": START, "freeze": True})
    acct = client.v1.accounts.create(
        params={
            "type": "express",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
    )
    ctl.onboard(acct.id)
    on_acct: stripe.RequestOptions = {"stripe_account": acct.id}
    _charge(client, 10_000)
    _charge(client, 5_000)
    _charge(client, 20_000, on_acct)

    # Still pending: nothing to announce, even one second before.
    ctl.post("clock", {"set": AVAILABLE_ON - 1})
    ctl.drain()
    assert _available_events(hooks.verified(hooks.platform, hooks.platform_secret)) == []
    assert _available_events(hooks.verified(hooks.connect, hooks.connect_secret)) == []

    ctl.advance(1)
    ctl.drain()
    # One event per account, however many transactions settled at that moment.
    [platform] = _available_events(hooks.verified(hooks.platform, hooks.platform_secret))
    assert getattr(platform, "account", None) is None
    balance = platform.data.object
    assert balance.object == "balance"
    assert balance.available[0].amount == (10_000 - 320) + (5_000 - 175)
    assert balance.pending[0].amount == 0
    [connected] = _available_events(hooks.verified(hooks.connect, hooks.connect_secret))
    assert connected.account == acct.id
    assert connected.data.object.available[0].amount == 20_000 - 610
    listed = client.v1.events.list(params={"type": "balance.available"}, options=on_acct).data
    assert [e.id for e in listed] == [connected.id]

    # Moving on with nothing left to settle sends nothing more.
    ctl.advance(5 * 86_400)
    ctl.drain()
    assert len(_available_events(hooks.verified(hooks.platform, hooks.platform_secret))) == 1


def test_balance_available_without_any_request(
    client: stripe.StripeClient, ctl: Control, hooks: Hooks
) -> None:
    # An unfrozen clock: the background thread settles the funds on its own as time passes.
    ctl.post("clock", {"set": START, "freeze": True})
    _charge(client, 10_000)
    ctl.post("clock", {"set": AVAILABLE_ON - 1, "freeze": False})
    events = hooks.platform.wait_for(
        lambda evs: any(e["type"] == "balance.available" for e in evs), timeout=5
    )
    [event] = [e for e in events if e["type"] == "balance.available"]
    assert event["data"]["object"]["available"][0]["amount"] == 10_000 - 320
