"""Idempotency-Key: required on the POSTs that move money (400 naming the header, nothing
done), optional elsewhere, and the OpenAPI document says which."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from web_helpers import Api, create_parties, payment_body

from models import IdempotencyKey, Payment
from web.idempotency import KEY_REQUIRED_RULES


def count(sessions: Any, model: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def backend(app: Any, tokens: dict[str, str]) -> Api:
    return Api(app.test_client(), tokens["backend"])


def post_without_key(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(path, json=body, headers=api.headers())


def test_a_charge_without_a_key_is_a_400_naming_the_header(backend: Api, sessions: Any) -> None:
    customer_id, carrier_id = create_parties(backend)
    keys_before = count(sessions, IdempotencyKey)
    response = post_without_key(
        backend, "/api/payments/intent", payment_body(customer_id, carrier_id)
    )
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "idempotency_key_required"
    assert error["field"] == "Idempotency-Key"
    assert "Idempotency-Key header is required on a POST that moves money" in error["message"]
    assert count(sessions, Payment) == 0 and count(sessions, IdempotencyKey) == keys_before
    keyed = backend.post("/api/payments/intent", payment_body(customer_id, carrier_id), key="l-1")
    assert keyed.status_code == 202


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/payments/intent/{payment}/confirm", {"payment_method": "pm_card_visa"}),
        ("/api/payments/{payment}/refund", {}),
        ("/api/payouts/connect/transfers", {"carrier_id": 1, "amount": 100, "currency": "usd"}),
        (
            "/api/payouts/connect/payouts",
            {"carrier_id": 1, "amount": 100, "currency": "usd", "method": "standard"},
        ),
    ],
)
def test_every_money_moving_post_requires_it(backend: Api, path: str, body: dict[str, Any]) -> None:
    customer_id, carrier_id = create_parties(backend)
    created = backend.post("/api/payments/intent", payment_body(customer_id, carrier_id))
    body = {**body, "carrier_id": carrier_id} if "carrier_id" in body else body
    response = post_without_key(backend, path.format(payment=created.json["id"]), body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "idempotency_key_required"


def test_posts_that_move_no_money_take_it_optionally(backend: Api, sessions: Any) -> None:
    body = {"name": "Acme", "email": "ap@acme.test", "external_id": "acme-7"}
    response = post_without_key(backend, "/api/customers", body)
    assert response.status_code == 202, response.json
    assert count(sessions, IdempotencyKey) == 0
    again = post_without_key(backend, "/api/customers", {**body, "external_id": "acme-8"})
    assert again.status_code == 202 and again.json["id"] != response.json["id"]


def test_the_openapi_document_marks_where_it_is_required(backend: Api) -> None:
    paths = backend.get("/api/openapi.json").json["paths"]
    required = set()
    for path, item in paths.items():
        post = item.get("post")
        if post is None or path == "/api/webhooks/stripe":
            continue
        (param,) = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
        if param["required"]:
            required.add(path)
    assert required == {
        rule.replace("<int:payment_id>", "{payment_id}") for rule in KEY_REQUIRED_RULES
    }
