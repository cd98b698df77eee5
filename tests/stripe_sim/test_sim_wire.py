"""Wire format, auth, errors, Stripe-Account scoping and idempotency, over raw HTTP and the SDK."""

from __future__ import annotations

import base64

import pytest
import stripe
from sim_helpers import API_KEY, Control, PacedSession

from stripe_sim.server import RunningSimulator, start_simulator
from stripe_sim.wire import decode_form

AUTH = {"Authorization": f"Bearer {API_KEY}"}
HTTP = PacedSession()


def test_decode_form_nested_and_arrays() -> None:
    decoded = decode_form(
        "metadata[a]=1&metadata[b]=&expand[]=x&expand[]=y&items[0][price]=p&items[1][price]=q"
        "&transfer_data[destination]=acct_1&types[0]=a&types[1]=b&amount=100"
    )
    assert decoded == {
        "metadata": {"a": "1", "b": ""},
        "expand": ["x", "y"],
        "items": [{"price": "p"}, {"price": "q"}],
        "transfer_data": {"destination": "acct_1"},
        "types": ["a", "b"],
        "amount": "100",
    }


def test_auth_is_required_and_checked(sim: RunningSimulator) -> None:
    missing = HTTP.get(f"{sim.url}/v1/balance", timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in missing.json()["error"]["message"]
    wrong = HTTP.get(
        f"{sim.url}/v1/balance", timeout=10, headers={"Authorization": "Bearer sk_test_wrong"}
    )
    assert wrong.status_code == 401 and "Invalid API Key" in wrong.json()["error"]["message"]
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    ok = HTTP.get(f"{sim.url}/v1/balance", timeout=10, headers={"Authorization": f"Basic {basic}"})
    assert ok.status_code == 200 and ok.headers["Request-Id"].startswith("req_")
    assert ok.json()["object"] == "balance"


def test_any_test_key_accepted_without_configured_key() -> None:
    with start_simulator(port=0) as other:
        ok = HTTP.get(
            f"{other.url}/v1/balance",
            timeout=10,
            headers={"Authorization": "Bearer sk_test_anything"},
        )
        live = HTTP.get(
            f"{other.url}/v1/balance",
            timeout=10,
            headers={"Authorization": "Bearer sk_live_anything"},
        )
    assert ok.status_code == 200 and live.status_code == 401


def test_error_bodies_and_codes(sim: RunningSimulator) -> None:
    unknown_url = HTTP.get(f"{sim.url}/v1/nothing", headers=AUTH, timeout=10)
    assert unknown_url.status_code == 404
    cases = [
        ({"amount": "abc", "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({"amount": "-5", "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({"amount": "0", "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({"amount": "10", "currency": "usd"}, "amount_too_small", "amount"),
        ({"currency": "usd"}, "parameter_missing", "amount"),
        ({"amount": "1000", "currency": "usd", "bogus": "1"}, "parameter_unknown", "bogus"),
        ({"amount": "1000", "currency": "xyz"}, None, "currency"),
    ]
    for body, code, param in cases:
        resp = HTTP.post(f"{sim.url}/v1/payment_intents", data=body, headers=AUTH, timeout=10)
        assert resp.status_code == 400, body
        err = resp.json()["error"]
        assert set(err) >= {"type", "code", "message", "param"}
        assert (err["type"], err["code"], err["param"]) == ("invalid_request_error", code, param)
    missing = HTTP.get(f"{sim.url}/v1/charges/ch_nope", headers=AUTH, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    state = HTTP.get(f"{sim.url}/_sim/state", timeout=10).json()
    assert "payment_intent" not in state["accounts"]["platform"]  # no state change


def test_stripe_account_scopes_state(client: stripe.StripeClient, ctl: Control) -> None:
    acct = client.v1.accounts.create(params={"type": "express"})
    on_acct: stripe.RequestOptions = {"stripe_account": acct.id}
    cus = client.v1.customers.create(options=on_acct)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.retrieve(cus.id)  # not on the platform
    assert err.value.http_status == 404
    assert client.v1.customers.retrieve(cus.id, options=on_acct).id == cus.id
    assert client.v1.accounts.retrieve_current(options=on_acct).id == acct.id
    with pytest.raises(stripe.PermissionError) as denied:
        client.v1.customers.list(options={"stripe_account": "acct_doesnotexist"})
    assert denied.value.http_status == 403
    assert denied.value.error is not None and denied.value.error.code == "account_invalid"


def test_idempotency_replays_and_rejects_other_params(sim: RunningSimulator) -> None:
    headers = {**AUTH, "Idempotency-Key": "key-1"}
    body = {
        "amount": "1500",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
    }
    first = HTTP.post(f"{sim.url}/v1/payment_intents", data=body, headers=headers, timeout=10)
    again = HTTP.post(f"{sim.url}/v1/payment_intents", data=body, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = HTTP.post(
        f"{sim.url}/v1/payment_intents",
        data={**body, "amount": "1600"},
        headers=headers,
        timeout=10,
    )
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    # Keys are per account: the same key on a connected account is a new request.
    state = HTTP.get(f"{sim.url}/_sim/state", timeout=10).json()
    assert state["accounts"]["platform"]["payment_intent"] == 1
    # A validation failure is not saved: fixing the request under the same key works.
    bad = HTTP.post(
        f"{sim.url}/v1/customers",
        data={"bogus": "1"},
        headers={**AUTH, "Idempotency-Key": "key-2"},
        timeout=10,
    )
    good = HTTP.post(
        f"{sim.url}/v1/customers",
        data={"email": "x@example.com"},
        headers={**AUTH, "Idempotency-Key": "key-2"},
        timeout=10,
    )
    assert bad.status_code == 400 and good.status_code == 200


def test_declines_are_replayed_like_stripe(sim: RunningSimulator) -> None:
    headers = {**AUTH, "Idempotency-Key": "decline-1"}
    body = {
        "amount": "1500",
        "currency": "usd",
        "payment_method": "pm_card_insufficientFunds",
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
    }
    first = HTTP.post(f"{sim.url}/v1/payment_intents", data=body, headers=headers, timeout=10)
    again = HTTP.post(f"{sim.url}/v1/payment_intents", data=body, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 402
    assert first.json()["error"]["decline_code"] == "insufficient_funds"
    assert first.json() == again.json()


def test_expand(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "expand": ["latest_charge.balance_transaction"],
        }
    )
    charge = pi.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert isinstance(charge.balance_transaction, stripe.BalanceTransaction)
    page = client.v1.balance_transactions.list(params={"expand": ["data.source"]})
    assert page.data[0].source.id == charge.id  # type: ignore[union-attr]
    # The stored object is not changed by expansion.
    assert isinstance(client.v1.payment_intents.retrieve(pi.id).latest_charge, str)
