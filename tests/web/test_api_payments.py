"""Payments over HTTP: accepted, enqueued with the request id, read back; bad input refused
with a 4xx naming the field, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from web_helpers import create_parties, payment_body

from models import Load, Payment, Shipper
from models.db import transaction


def count(sessions: Any, model: Any) -> int:
    with transaction(sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_payment_intent_is_accepted_enqueued_and_read_back(backend, parties, sessions, queued):
    customer_id, carrier_id = parties
    response = backend.post(
        "/api/payments/intent",
        payment_body(customer_id, carrier_id, payment_method="pm_card_visa", description="Load 1"),
        headers={"X-Request-Id": "req-from-dispatch-123"},
    )
    assert response.status_code == 202, response.json
    body = response.json
    assert body["status"] == "pending"
    assert body["links"]["self"] == f"/api/payments/{body['id']}"
    assert response.headers["X-Request-Id"] == "req-from-dispatch-123"

    messages = [m for m in queued("charges") if m.actor_name == "advance_payment"]
    assert [m.args for m in messages] == [(body["id"],)]
    assert messages[0].options["request_id"] == "req-from-dispatch-123"
    with transaction(sessions) as session:
        payment = session.get(Payment, body["id"])
        assert payment is not None and payment.request_id == "req-from-dispatch-123"
        assert (payment.amount, payment.carrier_amount, payment.currency) == (10_000, 8_500, "usd")

    read = backend.get(f"/api/payments/{body['id']}")
    assert read.status_code == 200
    for field in (
        "id",
        "status",
        "amount",
        "currency",
        "amount_refunded",
        "stripe_payment_intent",
        "failure_code",
        "failure_message",
    ):
        assert field in read.json
    assert read.json["amount_refunded"] == 0
    assert read.json["load_id"] == "LOAD-1"
    assert read.json["client_secret"] is None  # not at Stripe yet


def test_customer_creation_enqueues_the_stripe_customer(backend, queued):
    response = backend.post(
        "/api/customers", {"name": "A", "email": "a@b.test", "external_id": "ext-9"}
    )
    assert response.status_code == 202
    assert response.json["status"] == "pending"
    assert [m.args for m in queued("customers")] == [(response.json["id"],)]
    again = backend.post(
        "/api/customers", {"name": "B", "email": "b@b.test", "external_id": "ext-9"}
    )
    assert again.status_code == 409
    assert again.json["error"]["field"] == "external_id"
    assert backend.get(f"/api/customers/{response.json['id']}").json["external_id"] == "ext-9"


BAD_PAYMENTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown field", {"tip": 5}, 422, "tip"),
    ("float amount", {"amount": 12.5}, 422, "amount"),
    ("whole float amount", {"amount": 12.0}, 422, "amount"),
    ("string amount", {"amount": "12"}, 422, "amount"),
    ("boolean amount", {"amount": True}, 422, "amount"),
    ("zero amount", {"amount": 0}, 422, "amount"),
    ("negative amount", {"amount": -100}, 422, "amount"),
    ("huge amount", {"amount": 10**12}, 422, "amount"),
    ("unknown currency", {"currency": "xyz"}, 422, "currency"),
    ("uppercase currency", {"currency": "USD"}, 422, "currency"),
    ("carrier share above amount", {"carrier_amount": 10_001}, 422, "carrier_amount"),
    ("negative carrier share", {"carrier_amount": -1}, 422, "carrier_amount"),
    ("unknown customer", {"customer_id": 999_999}, 422, "customer_id"),
    ("unknown carrier", {"carrier_id": 999_999}, 422, "carrier_id"),
    ("string customer id", {"customer_id": "1"}, 422, "customer_id"),
    ("missing load", {"load_id": None}, 422, "load_id"),
    ("card number as method", {"payment_method": "4242424242424242"}, 422, "payment_method"),
    (
        "spaced card number",
        {"description": "card 4242 4242 4242 4242 exp 12/30"},
        422,
        "description",
    ),
    ("dashed card number", {"load_id": "5555-5555-5555-4444"}, 422, "load_id"),
    ("card number as integer", {"description": 4000056655665556}, 422, "description"),
    ("not a pm id", {"payment_method": "card_123"}, 422, "payment_method"),
    ("control characters", {"description": "a\u0000b"}, 422, "description"),
]


@pytest.mark.parametrize(
    ("case", "change", "status", "field"), BAD_PAYMENTS, ids=[c[0] for c in BAD_PAYMENTS]
)
def test_bad_payment_requests_are_refused_naming_the_field(
    backend, parties, sessions, queued, case, change, status, field
):
    customer_id, carrier_id = parties
    body = payment_body(customer_id, carrier_id)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = backend.post("/api/payments/intent", body)
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["field"] == field
    assert error["code"] and error["message"]
    assert "4242" not in error["message"] and "5556" not in error["message"]
    assert count(sessions, Payment) == 0 and count(sessions, Load) == 0
    assert queued("charges") == []


def test_a_card_number_is_refused_even_in_an_unknown_field(backend, parties, sessions):
    customer_id, carrier_id = parties
    body = payment_body(customer_id, carrier_id, card={"number": "4242424242424242"})
    response = backend.post("/api/payments/intent", body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "card_data_refused"
    assert count(sessions, Payment) == 0


def test_numbers_that_fail_luhn_are_not_card_numbers(backend, parties):
    customer_id, carrier_id = parties
    body = payment_body(customer_id, carrier_id, load_id="4242424242424241")
    assert backend.post("/api/payments/intent", body).status_code == 202


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "malformed_request"),
        (b'{"amount": 1, "amount": 2}', "application/json", 400, "malformed_request"),
        (b'{"amount": NaN}', "application/json", 400, "malformed_request"),
        (b"[1, 2]", "application/json", 422, "wrong_type"),
        (b"amount=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"x": "' + b"a" * 5000 + b'"}', "application/json", 413, "payload_too_large"),
    ],
)
def test_malformed_bodies(backend, sessions, data, content_type, status, code):
    response = backend.client.post(
        "/api/payments/intent", data=data, headers=backend.headers({"Content-Type": content_type})
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert count(sessions, Payment) == 0


def test_unknown_ids_are_404_and_huge_ids_do_not_break(backend):
    assert backend.get("/api/payments/424242").status_code == 404
    assert backend.get(f"/api/payments/{10**30}").status_code == 404
    assert backend.get("/api/payments/abc").status_code == 404
    missing = backend.post("/api/payments/intent/77/confirm", {"payment_method": "pm_card_visa"})
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert backend.client.put("/api/payments/intent").status_code == 405


def test_a_load_of_another_customer_is_a_conflict(backend, parties, sessions):
    customer_id, carrier_id = parties
    other = backend.post(
        "/api/customers", {"name": "Other", "email": "o@o.test", "external_id": "other"}
    ).json["id"]
    assert (
        backend.post("/api/payments/intent", payment_body(customer_id, carrier_id)).status_code
        == 202
    )
    response = backend.post("/api/payments/intent", payment_body(other, carrier_id))
    assert response.status_code == 409 and response.json["error"]["field"] == "load_id"
    assert count(sessions, Payment) == 1


def test_confirm_asks_for_the_new_method(backend, parties, sessions, queued):
    customer_id, carrier_id = parties
    created = backend.post("/api/payments/intent", payment_body(customer_id, carrier_id)).json
    response = backend.post(
        f"/api/payments/intent/{created['id']}/confirm", {"payment_method": "pm_card_mastercard"}
    )
    assert response.status_code == 202
    assert response.json["payment_method"] == "pm_card_mastercard"
    assert [m.args for m in queued("charges")] == [(created["id"],), (created["id"],)]
    bad = backend.post(f"/api/payments/intent/{created['id']}/confirm", {"payment_method": 5})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "payment_method"


def test_carrier_validation(backend, sessions):
    body = {"name": "R", "email": "r@r.test", "country": "USA", "default_currency": "usd"}
    assert backend.post("/api/carriers", body).json["error"]["field"] == "country"
    body.update(country="us", default_currency="abc")
    assert backend.post("/api/carriers", body).json["error"]["field"] == "default_currency"
    body.update(default_currency="eur", email="not-an-email")
    assert backend.post("/api/carriers", body).json["error"]["field"] == "email"
    body.update(email="r@r.test")
    created = backend.post("/api/carriers", body)
    assert created.status_code == 201 and created.json["country"] == "US"
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Shipper)) == 0


def test_customer_ids_are_checked_before_parties(backend):
    create_parties(backend)


def test_a_payment_in_another_currency_states_its_settlement(backend, parties) -> None:
    """A usd-settling platform (STRIPE_SETTLEMENT_CURRENCIES default usd) accepts a jpy load
    and says in the answer that it settles, and its carrier is paid, in usd."""
    customer_id, carrier_id = parties
    response = backend.post(
        "/api/payments/intent",
        payment_body(
            customer_id,
            carrier_id,
            currency="jpy",
            amount=15_000,
            carrier_amount=12_000,
            load_id="LOAD-JPY",
        ),
    )
    assert response.status_code == 202, response.json
    assert (response.json["amount"], response.json["currency"]) == (15_000, "jpy")
    assert response.json["settlement"] == {
        "currency": "usd",
        "converted": True,
        "amount": None,
        "fee": None,
        "exchange_rate": None,
        "carrier_amount": None,
    }
    usd = backend.post("/api/payments/intent", payment_body(customer_id, carrier_id))
    assert usd.json["settlement"]["converted"] is False


def test_a_payment_its_carrier_cannot_be_paid_for_is_refused_naming_currency(
    sessions, gateway, tokens, parties
) -> None:
    """Settling in gbp with no gbp payout threshold: no batch could pay the carrier."""
    from web_helpers import Api, make_test_app

    from config import load_settings

    settings = load_settings({"STRIPE_SETTLEMENT_CURRENCIES": "gbp"})
    app = make_test_app(sessions, gateway, SETTINGS=settings)
    client = Api(app.test_client(), tokens["backend"])
    customer_id, carrier_id = parties
    before = count(sessions, Payment)
    response = client.post(
        "/api/payments/intent", payment_body(customer_id, carrier_id, currency="eur")
    )
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert (error["field"], error["code"]) == ("currency", "currency_not_payable")
    assert "settles in gbp" in error["message"] and error["message"].endswith("carrier: none")
    assert count(sessions, Payment) == before


@pytest.mark.parametrize(
    ("settles", "carrier_currency", "currency", "allowed"),
    [
        ("usd", "jpy", "jpy", "none"),  # a jpy load on a usd platform is paid out in usd
        ("usd,jpy", "jpy", "usd", "jpy"),  # the platform has a jpy bank: only jpy loads
        ("usd,jpy", "usd", "jpy", "any except jpy (converted into usd)"),
    ],
)
def test_a_carrier_is_paid_only_in_their_accounts_currency(
    sessions, gateway, tokens, settles, carrier_currency, currency, allowed
) -> None:
    from web_helpers import Api, make_test_app

    from config import load_settings

    settings = load_settings({"STRIPE_SETTLEMENT_CURRENCIES": settles})
    client = Api(
        make_test_app(sessions, gateway, SETTINGS=settings).test_client(), tokens["backend"]
    )
    customer = client.post(
        "/api/customers", {"name": "A", "email": "a@a.test", "external_id": "a"}
    ).json
    carrier = client.post(
        "/api/carriers",
        {"name": "C", "email": "c@c.test", "country": "US", "default_currency": carrier_currency},
    ).json
    response = client.post(
        "/api/payments/intent", payment_body(customer["id"], carrier["id"], currency=currency)
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == "currency"
    message = response.json["error"]["message"]
    assert message.endswith(f"currencies allowed for this carrier: {allowed}"), message
    accepted = client.post(
        "/api/payments/intent",
        payment_body(customer["id"], carrier["id"], currency=carrier_currency, load_id="LOAD-OK"),
    )
    if allowed == "none":  # no currency settles in theirs: never payable
        assert accepted.status_code == 422
    else:
        assert accepted.status_code == 202, accepted.json
        assert accepted.json["settlement"]["currency"] == carrier_currency
