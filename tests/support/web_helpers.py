"""Helpers for tests that drive the HTTP API (the web, reports and flow tests)."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from jobs.broker import current_broker
from payments.gateway import StripeGateway
from web import create_app
from web.idempotency import KEY_REQUIRED_RULES

KEY_REQUIRED = [re.compile(re.sub(r"<int:\w+>", r"\\d+", rule)) for rule in KEY_REQUIRED_RULES]
WEBHOOK_SECRETS = ("whsec_current_test", "whsec_previous_test")


def make_test_app(
    sessions: sessionmaker[Session], gateway: StripeGateway | None, **overrides: Any
) -> Flask:
    settings = load_settings(
        {
            "STRIPE_WEBHOOK_SECRET": ",".join(WEBHOOK_SECRETS),
            "API_MAX_BODY_BYTES": "4096",
        }
    )
    config: dict[str, Any] = {
        "SETTINGS": settings,
        "SESSIONS": sessions,
        "GATEWAY": gateway,
        "BROKER": current_broker(),  # the test process's, which its in-process workers consume
        "RATE_LIMIT": (10_000, 1),
        "ADDRESS_RATE_LIMIT": (10_000, 1),
        "KEY_CACHE_TTL_S": 0,
        "TESTING": True,
    }
    config.update(overrides)
    return create_app(config)


class Api:
    """A test client that speaks as one API key."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def post(self, path: str, body: Any = None, *, key: str | None = None, **kw: Any) -> Any:
        """POST with `key` as Idempotency-Key; where the API requires one (money-moving POSTs)
        a fresh key when none is given, as a careful client sends."""
        extra = kw.pop("headers", {})
        if key is None and any(rule.fullmatch(path) for rule in KEY_REQUIRED):
            key = f"t-{uuid.uuid4().hex}"
        if key is not None:
            extra.setdefault("Idempotency-Key", key)
        return self.client.post(path, json=body, headers=self.headers(extra), **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(kw.pop("headers", {})), **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers(kw.pop("headers", {})), **kw)


def event_payload(event_id: str, event_type: str, obj: dict[str, Any], **extra: Any) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
        **extra,
    }
    return json.dumps(event).encode()


def create_parties(api: Api) -> tuple[int, int]:
    """A customer and a carrier through the API; returns their ids."""
    customer = api.post(
        "/api/customers",
        {"name": "Acme Shipping", "email": "ap@acme.test", "external_id": "acme-1"},
    )
    assert customer.status_code == 202, customer.json
    carrier = api.post(
        "/api/carriers",
        {"name": "Road Runner", "email": "ops@rr.test", "country": "US", "default_currency": "usd"},
    )
    assert carrier.status_code == 201, carrier.json
    return customer.json["id"], carrier.json["id"]


def payment_body(customer_id: int, carrier_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "load_id": "LOAD-1",
        "amount": 10_000,
        "currency": "usd",
        "carrier_id": carrier_id,
        "carrier_amount": 8_500,
    }
    body.update(overrides)
    return body
