"""Connect: destination and direct charges with application fees, transfers, payouts."""

from __future__ import annotations

import pytest
import stripe
from sim_helpers import Control


def _onboarded(client: stripe.StripeClient, ctl: Control) -> str:
    acct = client.v1.accounts.create(
        params={
            "type": "express",
            "capabilities": {
                "transfers": {"requested": True},
                "card_payments": {"requested": True},
            },
        }
    )
    ctl.onboard(acct.id)
    return str(acct.id)


def _net(client: stripe.StripeClient, account: str | None = None) -> int:
    options: stripe.RequestOptions = {"stripe_account": account} if account else {}
    bal = client.v1.balance.retrieve(options=options)
    return sum(b.amount for b in bal.available) + sum(b.amount for b in bal.pending)


def test_destination_charge_with_application_fee(client: stripe.StripeClient, ctl: Control) -> None:
    acct = _onboarded(client, ctl)
    pi = client.v1.payment_intents.create(
        params={
            "amount": 10_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "application_fee_amount": 1_200,
            "transfer_data": {"destination": acct},
            "transfer_group": "load_9",
        }
    )
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    tr = client.v1.transfers.retrieve(str(charge.transfer))
    assert (tr.amount, tr.destination, tr.source_transaction) == (10_000, acct, charge.id)
    fee = client.v1.application_fees.retrieve(str(charge.application_fee))
    assert (fee.amount, fee.account, fee.originating_transaction) == (1_200, acct, charge.id)
    on_acct: stripe.RequestOptions = {"stripe_account": acct}
    payment = client.v1.charges.retrieve(str(tr.destination_payment), options=on_acct)
    ptxn = client.v1.balance_transactions.retrieve(
        str(payment.balance_transaction), options=on_acct
    )
    assert (ptxn.type, ptxn.amount, ptxn.fee, ptxn.net) == ("payment", 10_000, 1_200, 8_800)
    types = sorted(t.type for t in client.v1.balance_transactions.list().data)
    assert types == ["application_fee", "charge", "transfer"]
    assert _net(client) == 1_200 - 320  # the platform keeps its fee minus Stripe's
    assert _net(client, acct) == 8_800
    assert [f.id for f in client.v1.application_fees.list(params={"charge": charge.id}).data] == [
        fee.id
    ]

    # A refund that reverses the transfer and returns the fee, proportionally.
    refund = client.v1.refunds.create(
        params={
            "charge": charge.id,
            "amount": 5_000,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    assert refund.transfer_reversal
    assert client.v1.transfers.retrieve(tr.id).amount_reversed == 5_000
    assert client.v1.application_fees.retrieve(fee.id).amount_refunded == 600
    assert _net(client) == 1_200 - 320 - 5_000 + 5_000 - 600
    assert _net(client, acct) == 8_800 - 5_000 + 600


def test_direct_charge_on_connected_account(client: stripe.StripeClient, ctl: Control) -> None:
    acct = _onboarded(client, ctl)
    on_acct: stripe.RequestOptions = {"stripe_account": acct}
    pi = client.v1.payment_intents.create(
        params={
            "amount": 20_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "application_fee_amount": 1_000,
        },
        options=on_acct,
    )
    charge = client.v1.charges.retrieve(str(pi.latest_charge), options=on_acct)
    txn = client.v1.balance_transactions.retrieve(str(charge.balance_transaction), options=on_acct)
    assert (txn.fee, txn.net) == (610 + 1_000, 20_000 - 1_610)
    assert sorted(d.type for d in txn.fee_details) == ["application_fee", "stripe_fee"]
    fee = client.v1.application_fees.retrieve(str(charge.application_fee))
    assert fee.account == acct and fee.charge == charge.id
    assert _net(client) == 1_000
    with pytest.raises(stripe.InvalidRequestError):  # platform charges need a destination
        client.v1.payment_intents.create(
            params={"amount": 1_000, "currency": "usd", "application_fee_amount": 100}
        )


def test_transfer_errors_change_nothing(client: stripe.StripeClient, ctl: Control) -> None:
    fresh = client.v1.accounts.create(params={"type": "express"})
    client.v1.payment_intents.create(
        params={
            "amount": 10_000,
            "currency": "usd",
            "payment_method": "pm_card_bypassPending",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as caps:
        client.v1.transfers.create(
            params={"amount": 100, "currency": "usd", "destination": fresh.id}
        )
    assert caps.value.code == "insufficient_capabilities_for_transfer"
    ctl.onboard(fresh.id)
    with pytest.raises(stripe.InvalidRequestError) as funds:
        client.v1.transfers.create(
            params={"amount": 9_681, "currency": "usd", "destination": fresh.id}
        )
    assert funds.value.code == "balance_insufficient"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.create(
            params={"amount": 100, "currency": "usd", "destination": "acct_nope"}
        )
    assert missing.value.code == "resource_missing"
    assert client.v1.transfers.list().data == []
    tr = client.v1.transfers.create(
        params={"amount": 9_680, "currency": "usd", "destination": fresh.id}
    )
    rev = client.v1.transfers.reversals.create(tr.id, params={"amount": 680})
    assert rev.amount == 680 and rev.transfer == tr.id
    assert client.v1.transfers.retrieve(tr.id).amount_reversed == 680
    assert [r.id for r in client.v1.transfers.reversals.list(tr.id).data] == [rev.id]
    assert _net(client) == 680 and _net(client, fresh.id) == 9_000


def test_payouts_lifecycle_failure_and_instant(client: stripe.StripeClient, ctl: Control) -> None:
    acct = _onboarded(client, ctl)
    on_acct: stripe.RequestOptions = {"stripe_account": acct}
    client.v1.payment_intents.create(
        params={
            "amount": 50_000,
            "currency": "usd",
            "payment_method": "pm_card_bypassPending",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )
    client.v1.transfers.create(params={"amount": 40_000, "currency": "usd", "destination": acct})
    ctl.post("clock", {"freeze": True})
    unready = client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payouts.create(
            params={"amount": 100, "currency": "usd"}, options={"stripe_account": unready.id}
        )
    assert err.value.code == "payouts_not_allowed"
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payouts.create(params={"amount": 40_001, "currency": "usd"}, options=on_acct)
    assert too_much.value.code == "balance_insufficient"

    ok = client.v1.payouts.create(params={"amount": 10_000, "currency": "usd"}, options=on_acct)
    doomed = client.v1.payouts.create(params={"amount": 5_000, "currency": "usd"}, options=on_acct)
    ctl.post(f"payouts/{doomed.id}/fail", {"failure_code": "account_closed"})
    ctl.advance(61)
    assert client.v1.payouts.retrieve(ok.id, options=on_acct).status == "in_transit"
    ctl.advance(3 * 86_400)
    assert client.v1.payouts.retrieve(ok.id, options=on_acct).status == "paid"
    failed = client.v1.payouts.retrieve(doomed.id, options=on_acct)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    ftxn = client.v1.balance_transactions.retrieve(
        str(failed.failure_balance_transaction), options=on_acct
    )
    assert (ftxn.type, ftxn.amount, ftxn.reporting_category) == (
        "payout_failure",
        5_000,
        "payout_reversal",
    )
    by_payout = client.v1.balance_transactions.list(
        params={"payout": doomed.id}, options=on_acct
    ).data
    assert sorted(t.type for t in by_payout) == ["payout", "payout_failure"]

    ctl.post(f"accounts/{acct}/payout_failure", {"failure_code": "no_account"})
    later = client.v1.payouts.create(params={"amount": 1_000, "currency": "usd"}, options=on_acct)
    ctl.advance(3 * 86_400)
    assert client.v1.payouts.retrieve(later.id, options=on_acct).failure_code == "no_account"
    ctl.post(f"accounts/{acct}/payout_failure", {"failure_code": None})

    instant = client.v1.payouts.create(
        params={"amount": 10_000, "currency": "usd", "method": "instant"}, options=on_acct
    )
    itxn = client.v1.balance_transactions.retrieve(
        str(instant.balance_transaction), options=on_acct
    )
    assert (itxn.amount, itxn.fee, itxn.net) == (-10_000, 150, -10_150)
    ctl.advance(61)
    assert client.v1.payouts.retrieve(instant.id, options=on_acct).status == "paid"
    platform_po = client.v1.payouts.create(params={"amount": 1_000, "currency": "usd"})
    assert platform_po.destination and platform_po.status == "pending"
    statuses = {p.status for p in client.v1.payouts.list(options=on_acct).data}
    assert statuses == {"paid", "failed"}
    assert _net(client, acct) == 40_000 - 10_000 - 10_150
