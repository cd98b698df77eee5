"""Hostile input is a 4xx with the usual error body, never a 500; an event that cannot be
processed is parked as failed with its reason instead of being retried forever."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from report_helpers import Browserless
from sqlalchemy import func, select
from web_helpers import WEBHOOK_SECRETS, event_payload, payment_body

from models import WebhookEvent
from models.db import transaction
from payments import sweeper, webhook_events
from stripe_sim.signing import sign

# 2,000 deep fits the test app's 4 KiB body limit and is twice Python's recursion limit.
DEEP = b"[" * 2000 + b"]" * 2000


def signed_post(app, payload: bytes):
    return app.test_client().post(
        "/api/webhooks/stripe",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, WEBHOOK_SECRETS[0]),
        },
    )


def raw_event(**fields: Any) -> bytes:
    event = {
        "id": "evt_x",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": "pi_x", "object": "payment_intent"}},
    }
    event.update(fields)
    return json.dumps(event).encode()


def test_json_nested_thousands_deep_is_400(backend, parties, app):
    response = backend.client.post(
        "/api/payments/intent",
        data=DEEP,
        headers={**backend.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed_request"
    assert signed_post(app, DEEP).status_code == 400
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    too_deep = backend.post("/api/payments/intent", payment_body(*parties, description=nested))
    assert too_deep.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        raw_event(id="evt_\u0000nul"),
        raw_event(data={"object": {"id": "pi_\u0000", "object": "payment_intent"}}),
        raw_event(data={"object": {"id": "pi_1", "metadata": {"note": "a\u0000b"}}}),
        raw_event(created=10**12),
        raw_event(created=2**70),
        raw_event(created=1e12),
        raw_event(created=1.5e9 + 0.5),
        raw_event(data={"object": {"object": "payment_intent"}}),
        raw_event(data={"object": {"id": 42, "object": "payment_intent"}}),
        raw_event(account="acct_" + "x" * 300),
    ],
    ids=[
        "nul-event-id",
        "nul-object-id",
        "nul-metadata",
        "created-1e12",
        "created-2**70",
        "created-1e12-float",
        "created-fraction",
        "object-without-id",
        "integer-object-id",
        "long-account",
    ],
)
def test_signed_but_malformed_webhooks_are_400_and_not_stored(app, sessions, payload):
    response = signed_post(app, payload)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.json["error"]["message"]
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_a_stored_event_that_cannot_be_processed_is_parked_with_its_reason(sessions, gateway):
    event = json.loads(event_payload("evt_noid", "payment_intent.succeeded", {"object": "x"}))
    with transaction(sessions) as session:
        row_id, _ = webhook_events.store_event(session, event)
    assert webhook_events.process_event(sessions, gateway, row_id) == "failed"
    assert webhook_events.process_event(sessions, gateway, row_id) == "failed"  # not retried
    with transaction(sessions) as session:
        row = session.get(WebhookEvent, row_id)
        assert row is not None and row.attempts == 1
        assert "StripeObjectUnreadable" in (row.error or "") and "'id'" in (row.error or "")
        assert sweeper.find_stuck(session, older_than_s=0).events == []


def test_reports_page_numbers_huge_ids_and_far_dates_are_not_500(app, tokens, api):
    finance = Browserless(app.test_client())
    finance.sign_in(tokens["finance"])
    for page in ("%C2%B2", "99999999999999999999999", "-1", "0"):
        assert finance.get(f"/reports?page={page}").status_code == 200
    for path in (
        "/reports/discrepancies/99999999999999999999999",
        "/reports/discrepancies/9223372036854775808",
    ):
        assert 400 <= finance.get(path).status_code < 500
    for path in (
        "/api/payments/99999999999999999999999",
        "/api/payments/9223372036854775808",
        "/api/refunds/9223372036854775808",
    ):
        assert api("admin").get(path).status_code == 404
    far = api("finance").post("/api/reconciliation/runs", {"date": "9999-12-31"})
    assert far.status_code == 422 and far.json["error"]["field"] == "date"


def test_sign_in_next_with_control_characters_is_not_followed(app, tokens):
    finance = Browserless(app.test_client())
    assert finance.get("/sign-in?next=/%0a/x").status_code == 200
    finance.sign_in(tokens["finance"])
    for target in ("/%0a/x", "/%09/evil.example", "//evil.example", "/%5C%5Cevil.example"):
        response = finance.get(f"/sign-in?next={target}")
        assert response.status_code == 303
        assert response.headers["Location"] == "/reports", target
    assert finance.get("/sign-in?next=/reports%3Fpage%3D2").headers["Location"] == (
        "/reports?page=2"
    )
