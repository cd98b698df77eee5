"""Refusals that teach: each names the field and says what to send instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web_helpers import Api, create_parties, payment_body


@pytest.fixture
def backend(app: Any, tokens: dict[str, str]) -> Api:
    return Api(app.test_client(), tokens["backend"])


@pytest.fixture
def refused(backend: Api) -> Callable[..., dict[str, Any]]:
    parties = create_parties(backend)

    def post(key: str, **overrides: Any) -> dict[str, Any]:
        response = backend.post(
            "/api/payments/intent", payment_body(*parties, **overrides), key=key
        )
        assert response.status_code == 422, response.json
        error: dict[str, Any] = response.json["error"]
        return error

    return post


def test_an_uppercase_currency_is_answered_with_its_lowercase_code(refused: Any) -> None:
    error = refused("upper", currency="USD")
    assert error["field"] == "currency"
    assert "lowercase ISO 4217" in error["message"]
    assert "send 'usd', not 'USD'" in error["message"]


@pytest.mark.parametrize("sent", [12.50, "12.50"])
def test_a_major_unit_amount_is_answered_with_minor_units(refused: Any, sent: object) -> None:
    error = refused(f"major-{sent!r}", amount=sent)
    assert error["field"] == "amount"
    assert "integer in the currency's minor unit" in error["message"]
    assert "send 1250" in error["message"]


def test_a_bad_email_shows_what_an_email_looks_like(backend: Api) -> None:
    response = backend.post(
        "/api/customers", {"name": "Acme", "email": "an email", "external_id": "a"}, key="mail"
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["field"] == "email"
    assert error["message"].startswith("email must be an email address such as ")
    assert "is not valid: an email address" not in error["message"]


def test_a_role_refusal_says_which_keys_may(backend: Api) -> None:
    response = backend.post("/api/reconciliation/runs", {"date": "2026-01-01"}, key="run")
    assert response.status_code == 403
    message = response.json["error"]["message"]
    assert message.startswith("a backend key may not do this: working reconciliation runs")
    assert message.endswith("needs a finance or admin key")
    assert "(resolve needed)" not in message
