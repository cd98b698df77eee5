"""Charges, captures, refunds, fees, balance transactions and their pagination."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe
from sim_helpers import Control

from stripe_sim.fees import FeeModel, percent_of
from stripe_sim.server import RunningSimulator


def _charge(
    client: stripe.StripeClient,
    amount: int,
    currency: str = "usd",
    pm: str = "pm_card_visa",
    **extra: Any,
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": pm,
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            **extra,
        }
    )


def _txn_of(client: stripe.StripeClient, pi: stripe.PaymentIntent) -> stripe.BalanceTransaction:
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    return client.v1.balance_transactions.retrieve(str(charge.balance_transaction))


def test_fee_rounding_is_half_up_integer() -> None:
    assert percent_of(1_000, 29_000) == 29
    assert percent_of(50, 29_000) == 1  # 1.45 -> 1
    assert percent_of(5_000_017, 29_000) == 145_000  # 145000.493 -> 145000
    assert percent_of(1_724, 29_000) == 50  # 49.996 -> 50
    assert percent_of(1_207, 29_000) == 35  # 35.003 -> 35
    assert percent_of(500, 1_000) == 1  # 0.5 -> 1: half-up
    assert FeeModel().card_fee(10_000, "usd") == 320
    assert FeeModel().card_fee(10_000, "eur") == 315
    assert FeeModel().ach_fee(10_000_000, "usd") == 500  # capped


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [
        (10_000, "usd", 320),
        (1_724, "usd", 80),
        (10_000, "eur", 315),
        (10_000, "gbp", 310),
        (5_000, "jpy", 145),
        (10_000, "kwd", 390),
    ],
)
def test_card_fees_by_currency(
    client: stripe.StripeClient, ctl: Control, amount: int, currency: str, fee: int
) -> None:
    """A platform with a bank account in each currency settles each unconverted."""
    ctl.post("accounts/platform/settlement", {"currencies": ["usd", currency]})
    txn = _txn_of(client, _charge(client, amount, currency))
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (amount, fee, amount - fee, currency)
    assert isinstance(txn.fee, int) and isinstance(txn.net, int)


def test_fee_model_is_configurable(client: stripe.StripeClient, ctl: Control) -> None:
    ctl.post("fees", {"card_rate": 14_000, "card_fixed": {"usd": 25}})
    assert _txn_of(client, _charge(client, 10_000)).fee == 165
    resp = requests.post(f"{ctl.url}/_sim/fees", json={"card_rate": -1}, timeout=10)
    assert resp.status_code == 400
    ctl.post("fees", {"card_rate": 29_000, "card_fixed": {"usd": 30}})


def test_declines_leave_no_money(client: stripe.StripeClient, ctl: Control) -> None:
    for pm, code in (
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_insufficientFunds", "insufficient_funds"),
    ):
        with pytest.raises(stripe.CardError) as err:
            _charge(client, 1_000, pm=pm)
        assert err.value.http_status == 402 and err.value.code == "card_declined"
        assert err.value.error is not None and err.value.error.decline_code == code
        pi = err.value.error.payment_intent
        assert pi is not None and pi.status == "requires_payment_method"
        assert pi.last_payment_error is not None
        charge = client.v1.charges.retrieve(str(pi.latest_charge))
        assert charge.status == "failed" and charge.balance_transaction is None
    assert client.v1.balance_transactions.list().data == []


def test_manual_capture_partial_and_cancel(client: stripe.StripeClient) -> None:
    pi = _charge(client, 10_000, capture_method="manual")
    assert pi.status == "requires_capture" and pi.amount_capturable == 10_000
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert not charge.captured and charge.balance_transaction is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 20_000})
    pi = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 6_000})
    assert pi.status == "succeeded" and pi.amount_received == 6_000
    txn = _txn_of(client, pi)
    # The whole authorization, then a partial_capture_reversal of the rest (see
    # test_sim_live_rules); the fee is on what was captured.
    assert (txn.amount, txn.fee) == (10_000, 204)
    other = _charge(client, 5_000, capture_method="manual")
    canceled = client.v1.payment_intents.cancel(
        other.id, params={"cancellation_reason": "abandoned"}
    )
    assert canceled.status == "canceled"
    assert client.v1.charges.retrieve(str(other.latest_charge)).refunded
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.cancel(pi.id)
    assert err.value.code == "payment_intent_unexpected_state"


def test_two_step_confirm_and_update(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"name": "Shipper"})
    pm = client.v1.payment_methods.attach("pm_card_mastercard", params={"customer": cus.id})
    assert pm.customer == cus.id and pm.card and pm.card.brand == "mastercard"
    listed = client.v1.payment_methods.list(params={"customer": cus.id, "type": "card"})
    assert [p.id for p in listed.data] == [pm.id]
    pi = client.v1.payment_intents.create(
        params={"amount": 3_000, "currency": "usd", "customer": cus.id}
    )
    assert pi.status == "requires_payment_method"
    pi = client.v1.payment_intents.update(pi.id, params={"metadata": {"load": "7"}})
    pi = client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": pm.id, "return_url": "https://midway.test/return"}
    )
    assert pi.status == "succeeded" and pi.metadata["load"] == "7"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.confirm(pi.id)
    assert err.value.code == "payment_intent_unexpected_state"
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None


def test_refunds_full_partial_and_too_much(client: stripe.StripeClient, ctl: Control) -> None:
    pi = _charge(client, 10_000)
    r1 = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 4_000})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 7_000})
    assert err.value.code == "amount_too_large"
    r2 = client.v1.refunds.create(params={"charge": str(pi.latest_charge), "reason": "duplicate"})
    assert (r1.amount, r2.amount, r2.reason) == (4_000, 6_000, "duplicate")
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.refunded and charge.amount_refunded == 10_000
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": charge.id})
    assert again.value.code == "charge_already_refunded"
    refunds = client.v1.refunds.list(params={"charge": charge.id}).data
    assert [r.id for r in refunds] == [r2.id, r1.id]
    assert ctl.get("state")["accounts"]["platform"]["refund"] == 2  # errors changed nothing
    fees = sum(t.fee for t in client.v1.balance_transactions.list().data)
    assert fees == 320  # the fee is not returned


def test_availability_bypass_pending_and_clock(client: stripe.StripeClient, ctl: Control) -> None:
    ctl.post("clock", {"set": 1_700_000_000, "freeze": True})  # 2023-11-14 22:13:20 UTC
    slow = _txn_of(client, _charge(client, 1_000))
    fast = _txn_of(client, _charge(client, 1_000, pm="pm_card_bypassPending"))
    assert slow.status == "pending" and slow.available_on == 1_699_920_000 + 2 * 86_400
    assert fast.status == "available" and fast.available_on == fast.created == 1_700_000_000
    bal = client.v1.balance.retrieve()
    assert (bal.available[0].amount, bal.pending[0].amount) == (fast.net, slow.net)
    ctl.post("clock", {"set": slow.available_on})
    assert client.v1.balance_transactions.retrieve(slow.id).status == "available"
    assert client.v1.balance.retrieve().available[0].amount == fast.net + slow.net


def test_ach_debit_processes_then_succeeds(client: stripe.StripeClient, ctl: Control) -> None:
    pi = client.v1.payment_intents.create(
        params={
            "amount": 100_000,
            "currency": "usd",
            "payment_method": "pm_usBankAccount",
            "payment_method_types": ["us_bank_account"],
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )
    assert pi.status == "processing"
    ctl.advance(4 * 86_400 + 2 * 86_400)  # 4 business days at most, a weekend between
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded"
    assert _txn_of(client, pi).fee == 500  # 0.8% capped at $5


def test_fee_changed_after_the_fact(client: stripe.StripeClient, ctl: Control) -> None:
    txn = _txn_of(client, _charge(client, 10_000, pm="pm_card_bypassPending"))
    ctl.post(f"balance_transactions/{txn.id}/fee", {"fee": 350})
    changed = client.v1.balance_transactions.retrieve(txn.id)
    assert (changed.fee, changed.net) == (350, 9_650)
    assert sum(d.amount for d in changed.fee_details) == 350
    assert client.v1.balance.retrieve().available[0].amount == 9_650


def test_balance_transaction_pagination_and_filters(
    sim: RunningSimulator, client: stripe.StripeClient, ctl: Control
) -> None:
    ctl.post("clock", {"set": 1_700_000_000, "freeze": True})
    ids = []
    for i in range(25):
        pi = _charge(client, 1_000 + i, pm="pm_card_bypassPending")
        ids.append(str(client.v1.charges.retrieve(str(pi.latest_charge)).balance_transaction))
        ctl.advance(60)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 100})
    page = client.v1.balance_transactions.list(params={"limit": 10, "type": "charge"})
    assert [t.id for t in page.data] == ids[::-1][:10] and page.has_more
    page2 = client.v1.balance_transactions.list(
        params={"limit": 10, "type": "charge", "starting_after": page.data[-1].id}
    )
    assert [t.id for t in page2.data] == ids[::-1][10:20]
    back = client.v1.balance_transactions.list(
        params={"limit": 5, "ending_before": page2.data[0].id, "type": "charge"}
    )
    assert [t.id for t in back.data] == ids[::-1][5:10] and back.has_more
    window = client.v1.balance_transactions.list(
        params={"created": {"gte": 1_700_000_000 + 60 * 5, "lt": 1_700_000_000 + 60 * 8}}
    )
    assert [t.id for t in window.data] == [ids[7], ids[6], ids[5]] and not window.has_more
    every = list(client.v1.balance_transactions.list(params={"limit": 7}).auto_paging_iter())
    assert len(every) == 26
    by_source = client.v1.balance_transactions.list(params={"source": refund.id}).data
    assert [t.type for t in by_source] == ["refund"]
    assert client.v1.balance_transactions.list(params={"currency": "eur"}).data == []
    for bad in ({"limit": "0"}, {"limit": "101"}, {"created[between]": "1"}):
        resp = requests.get(
            f"{sim.url}/v1/balance_transactions",
            params=bad,
            timeout=10,
            headers={"Authorization": "Bearer sk_test_simtests"},
        )
        assert resp.status_code == 400, bad


def test_invalid_confirmation_leaves_no_trace(client: stripe.StripeClient, ctl: Control) -> None:
    # Rejected before anything is created: no PaymentIntent, PaymentMethod or event.
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.create(
            params={
                "amount": 1_000,
                "currency": "eur",
                "payment_method": "pm_usBankAccount",
                "payment_method_types": ["us_bank_account"],
                "confirm": True,
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            }
        )
    assert err.value.http_status == 400
    assert ctl.get("state")["accounts"]["platform"] == {}
    pi = client.v1.payment_intents.create(
        params={"amount": 1_000, "currency": "usd", "payment_method_types": ["card"]}
    )
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_usBankAccount"})
    assert bad.value.code == "payment_intent_incompatible_payment_method"
    assert client.v1.payment_intents.retrieve(pi.id).payment_method is None
    assert "payment_method" not in ctl.get("state")["accounts"]["platform"]
