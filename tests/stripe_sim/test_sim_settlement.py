"""Settlement currencies and conversion, as live Stripe does them.

Sources: docs.stripe.com/currencies ("Currency presentment and settlement": a charge in a
currency the account does not settle in is converted to the settlement currency); the API
reference of the Balance Transaction (`exchange_rate`: amount in A times exchange_rate is the
amount in B); stripe.com/pricing (US: "+1% if currency conversion is required");
docs.stripe.com/payments/currencies/settlement-payouts (settlement currencies are those of the
account's bank accounts); docs.stripe.com/connect/currencies (a connected account receives a
transfer in its default currency when it cannot settle in the transfer's); docs.stripe.com/
payouts (a payout needs a bank account in its currency).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import requests
import stripe
from sim_helpers import Control

from stripe_sim.fees import FeeModel
from stripe_sim.fx import FxTable, convert

MONDAY = int(dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC).timestamp())
DAY = 86_400


def _charge(
    client: stripe.StripeClient,
    amount: int,
    currency: str,
    pm: str = "pm_card_bypassPending",
    **extra: Any,
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": pm,
            "confirm": True,
            "payment_method_types": ["card"],
            **extra,
        }
    )


def _txn(client: stripe.StripeClient, txn_id: object) -> stripe.BalanceTransaction:
    return client.v1.balance_transactions.retrieve(str(txn_id))


def _charge_txn(client: stripe.StripeClient, pi: stripe.PaymentIntent) -> stripe.BalanceTransaction:
    return _txn(client, client.v1.charges.retrieve(str(pi.latest_charge)).balance_transaction)


def _fix_rates(ctl: Control, when: int, **pairs: str) -> None:
    ctl.post("fx", {"fixed": {str(when): {k.replace("_", ":"): v for k, v in pairs.items()}}})


def test_a_usd_platform_converts_a_jpy_charge_and_charges_the_conversion_fee(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": MONDAY, "freeze": True})
    _fix_rates(ctl, MONDAY, jpy_usd="0.0067")
    pi = _charge(client, 10_000, "jpy")
    txn = _charge_txn(client, pi)
    assert (pi.amount, pi.currency) == (10_000, "jpy")  # presentment stays on the charge
    assert (txn.amount, txn.currency, txn.exchange_rate) == (6_700, "usd", 0.0067)
    card = FeeModel().card_fee(6_700, "usd")  # 2.9% + 30c of the settled amount
    fees = {d.description: (d.amount, d.currency, d.type) for d in txn.fee_details}
    assert fees == {
        "Stripe processing fees": (card, "usd", "stripe_fee"),
        "Currency conversion fee": (67, "usd", "stripe_fee"),  # 1% of 67.00 USD
    }
    assert (txn.fee, txn.net) == (card + 67, 6_700 - card - 67)
    balance = client.v1.balance.retrieve()
    assert {b.currency for b in balance.available} == {"usd"}


def test_a_refund_is_converted_at_the_rate_of_its_own_day(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": MONDAY, "freeze": True})
    _fix_rates(ctl, MONDAY, cad_usd="0.73")
    _fix_rates(ctl, MONDAY + DAY, cad_usd="0.75")
    pi = _charge(client, 20_000, "cad")
    assert _charge_txn(client, pi).amount == 14_600
    ctl.advance(DAY)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 5_000})
    txn = _txn(client, refund.balance_transaction)
    assert (refund.amount, refund.currency) == (5_000, "cad")
    assert (txn.amount, txn.currency, txn.exchange_rate, txn.fee) == (-3_750, "usd", 0.75, 0)
    assert txn.type == "refund"


def test_default_rates_are_deterministic_and_move_from_day_to_day(ctl: Control) -> None:
    table = FxTable()
    monday = table.rate("eur", "usd", MONDAY)
    assert monday == FxTable().rate("eur", "usd", MONDAY)
    assert {table.rate("eur", "usd", MONDAY + d * DAY) for d in range(7)} != {monday}
    assert abs(monday - Decimal("1.08")) <= Decimal("1.08") * 3 / 1000
    assert convert(12_345, "kwd", "usd", Decimal("3.25")) == 4_012  # 12.345 KWD -> 40.12 USD
    assert convert(-5_000, "jpy", "usd", Decimal("0.0067")) == -3_350
    state = ctl.get("fx")
    assert state["usd_per_unit"]["jpy"] == "0.0067"


@pytest.mark.parametrize(
    "body",
    [
        {"usd_per_unit": {"jpy": "-1"}},
        {"usd_per_unit": {"jpy": "abc"}},
        {"daily_drift_per_mille": "x"},
        {"fixed": {"today": {}}},
        {"rates": {}},
    ],
)
def test_bad_fx_settings_are_refused_and_change_nothing(ctl: Control, body: Any) -> None:
    before = ctl.get("fx")
    resp = requests.post(f"{ctl.url}/_sim/fx", json=body, timeout=10)
    assert resp.status_code == 400
    assert ctl.get("fx") == before


def test_a_platform_settling_in_jpy_keeps_jpy_unconverted(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("accounts/platform/settlement", {"currencies": ["jpy"]})
    txn = _charge_txn(client, _charge(client, 5_000, "jpy"))
    assert (txn.amount, txn.currency, txn.exchange_rate) == (5_000, "jpy", None)
    assert [d.description for d in txn.fee_details] == ["Stripe processing fees"]
    # The same platform now converts usd into jpy.
    txn = _charge_txn(client, _charge(client, 1_000, "usd"))
    assert txn.currency == "jpy" and txn.exchange_rate is not None


def test_transfers_draw_on_the_settlement_balance_and_arrive_in_the_destination_currency(
    client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": MONDAY, "freeze": True})
    _fix_rates(ctl, MONDAY, jpy_usd="0.0067", usd_cad="1.37")
    _charge(client, 100_000, "jpy")  # 670.00 USD on the balance, nothing in jpy
    acct = client.v1.accounts.create(params={"type": "express", "default_currency": "cad"})
    ctl.onboard(acct.id)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(
            params={"amount": 10_000, "currency": "jpy", "destination": acct.id}
        )
    assert refused.value.code == "balance_insufficient"
    tr = client.v1.transfers.create(
        params={"amount": 10_000, "currency": "usd", "destination": acct.id}
    )
    assert _txn(client, tr.balance_transaction).currency == "usd"
    received = client.v1.balance_transactions.list(
        params={"type": "payment"}, options={"stripe_account": acct.id}
    ).data[0]
    assert (received.amount, received.currency, received.exchange_rate) == (13_700, "cad", 1.37)


def test_a_payout_needs_a_bank_account_in_its_currency(
    client: stripe.StripeClient, ctl: Control
) -> None:
    _charge(client, 10_000, "usd")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payouts.create(params={"amount": 1_000, "currency": "jpy"})
    assert refused.value.param == "currency" and "usd" in str(refused.value)
    assert client.v1.payouts.create(params={"amount": 1_000, "currency": "usd"}).status


def test_settlement_is_configurable_per_account_and_reset_restores_it(
    client: stripe.StripeClient, ctl: Control
) -> None:
    assert ctl.get("accounts/platform/settlement")["currencies"] == ["usd"]
    assert ctl.post(
        "accounts/platform/settlement", {"currencies": ["usd", "eur"], "default_currency": "eur"}
    )["currencies"] == ["eur", "usd"]
    resp = requests.post(
        f"{ctl.url}/_sim/accounts/platform/settlement",
        json={"currencies": ["US dollars"]},
        timeout=10,
    )
    assert resp.status_code == 400
    ctl.post("reset")
    assert ctl.get("accounts/platform/settlement")["currencies"] == ["usd"]


def test_a_dispute_on_a_converted_charge_withdraws_settlement_currency(
    client: stripe.StripeClient, ctl: Control
) -> None:
    """Chargebacks leave the balance the charge landed in (docs.stripe.com/disputes/how-disputes
    -work: the disputed amount and the dispute fee are debited from the balance)."""
    ctl.post("clock", {"set": MONDAY, "freeze": True})
    _fix_rates(ctl, MONDAY, eur_usd="1.08")
    pi = _charge(client, 10_000, "eur", pm="pm_card_createDispute")
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    withdrawal = client.v1.balance_transactions.list(params={"type": "adjustment"}).data[0]
    assert charge.disputed
    assert (withdrawal.amount, withdrawal.currency, withdrawal.fee) == (-10_800, "usd", 1_500)
    assert {b.currency for b in client.v1.balance.retrieve().available} == {"usd"}


def test_a_connected_account_has_a_bank_account_per_settlement_currency(
    client: stripe.StripeClient, ctl: Control
) -> None:
    acct = client.v1.accounts.create(params={"type": "express", "default_currency": "cad"})
    assert ctl.get(f"accounts/{acct.id}/settlement")["currencies"] == ["cad"]
    ctl.post(f"accounts/{acct.id}/settlement", {"currencies": ["cad", "usd"]})
    ctl.onboard(acct.id)
    account = client.v1.accounts.retrieve(acct.id)
    assert account.external_accounts is not None
    assert [b.currency for b in account.external_accounts.data] == ["cad", "usd"]
    assert account.default_currency == "cad"


def test_stripe_sim_command_refuses_bad_settlement_currencies() -> None:
    from click.testing import CliRunner

    from stripe_sim.cli import stripe_sim_command

    result = CliRunner().invoke(
        stripe_sim_command, ["--port", "0", "--settlement-currencies", "dollars"]
    )
    assert result.exit_code == 2 and "--settlement-currencies" in result.output


def test_a_transfer_funded_by_a_converted_charge_is_in_its_settlement_currency(
    client: stripe.StripeClient, ctl: Control
) -> None:
    """docs.stripe.com/connect/separate-charges-and-transfers (source_transaction): the charge
    funds the transfer with what it put on the balance."""
    ctl.post("clock", {"set": MONDAY, "freeze": True})
    _fix_rates(ctl, MONDAY, jpy_usd="0.0067")
    charge = str(_charge(client, 100_000, "jpy", pm="pm_card_visa").latest_charge)
    acct = client.v1.accounts.create(params={"type": "express"})
    ctl.onboard(acct.id)
    params = {"destination": acct.id, "source_transaction": charge}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params={**params, "amount": 50_000, "currency": "jpy"})
    assert refused.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.create(params={**params, "amount": 670_01, "currency": "usd"})
    assert too_much.value.code == "amount_too_large"
    tr = client.v1.transfers.create(params={**params, "amount": 670_00, "currency": "usd"})
    assert (tr.amount, tr.currency) == (670_00, "usd")
