"""Stripe webhooks: signatures (rotation, forgery, replay), storing once, enqueueing once."""

from __future__ import annotations

import time

from payment_rows import a_payment
from sqlalchemy import select
from web_helpers import WEBHOOK_SECRETS, event_payload

from models import WebhookEvent
from models.db import transaction
from stripe_sim.signing import sign

PATH = "/api/webhooks/stripe"


def post(app, payload: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return app.test_client().post(PATH, data=payload, headers=headers)


def stored(sessions) -> list[WebhookEvent]:
    with transaction(sessions) as session:
        return list(session.scalars(select(WebhookEvent)))


def test_a_signed_event_is_stored_once_and_enqueued(app, sessions, queued):
    payload = event_payload("evt_1", "payment_intent.succeeded", {"id": "pi_1", "object": "x"})
    response = post(app, payload, sign(payload, WEBHOOK_SECRETS[0]))
    assert response.status_code == 200
    assert response.json == {"received": True, "id": "evt_1", "duplicate": False}
    events = stored(sessions)
    assert [(e.stripe_event_id, e.status) for e in events] == [("evt_1", "received")]
    assert [m.args for m in queued("webhooks")] == [(events[0].id,)]

    again = post(app, payload, sign(payload, WEBHOOK_SECRETS[0]))
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert len(stored(sessions)) == 1
    assert len(queued("webhooks")) == 1  # a duplicate is not processed twice


def test_an_event_whose_outcome_is_recorded_is_stored_processed_without_a_job(
    app, sessions, queued
):
    """The charge job recorded the outcome from Stripe's answer before the event came: the
    event is kept, as processed, and no job runs for it (its handler would stop at once).
    Any other event still goes to a job."""
    a_payment(sessions, "load-done", stripe_payment_intent_id="pi_done", status="succeeded")
    a_payment(sessions, "load-open", stripe_payment_intent_id="pi_open", status="processing")
    events = [
        ("evt_done", "payment_intent.succeeded", {"id": "pi_done"}),
        ("evt_open", "payment_intent.succeeded", {"id": "pi_open"}),
        ("evt_other", "payment_intent.succeeded", {"id": "pi_not_ours"}),
        ("evt_refund", "charge.refunded", {"id": "ch_1"}),
    ]
    for event_id, event_type, obj in events:
        payload = event_payload(event_id, event_type, obj)
        response = post(app, payload, sign(payload, WEBHOOK_SECRETS[0]))
        assert response.status_code == 200
        assert response.json["duplicate"] is False
    rows = {e.stripe_event_id: e for e in stored(sessions)}
    assert rows["evt_done"].status == "processed" and rows["evt_done"].processed_at is not None
    assert {rows[e].status for e in ("evt_open", "evt_other", "evt_refund")} == {"received"}
    enqueued = sorted(m.args[0] for m in queued("webhooks"))
    assert enqueued == sorted(rows[e].id for e in ("evt_open", "evt_other", "evt_refund"))

    payload = event_payload("evt_done", "payment_intent.succeeded", {"id": "pi_done"})
    again = post(app, payload, sign(payload, WEBHOOK_SECRETS[0]))
    assert again.json["duplicate"] is True
    assert len(queued("webhooks")) == 3


def test_the_previous_secret_is_accepted_during_rotation(app, sessions):
    payload = event_payload("evt_rot", "account.updated", {"id": "acct_1"}, account="acct_1")
    assert post(app, payload, sign(payload, WEBHOOK_SECRETS[1])).status_code == 200
    assert stored(sessions)[0].stripe_account == "acct_1"


def test_forged_missing_and_replayed_signatures_are_refused(app, sessions, queued):
    payload = event_payload("evt_bad", "payment_intent.succeeded", {"id": "pi_1"})
    forged = post(app, payload, sign(payload, "whsec_attacker"))
    assert forged.status_code == 400
    assert forged.json["error"]["code"] == "invalid_signature"
    assert post(app, payload, None).status_code == 400
    assert post(app, payload, "t=1,v1=deadbeef").status_code == 400
    tampered = payload.replace(b"pi_1", b"pi_2")
    assert post(app, tampered, sign(payload, WEBHOOK_SECRETS[0])).status_code == 400
    old = int(time.time()) - 301
    replayed = post(app, payload, sign(payload, WEBHOOK_SECRETS[0], timestamp=old))
    assert replayed.status_code == 400
    assert "tolerance" in replayed.json["error"]["message"].lower()
    assert stored(sessions) == [] and queued("webhooks") == []
    recent = post(app, payload, sign(payload, WEBHOOK_SECRETS[0], timestamp=int(time.time()) - 200))
    assert recent.status_code == 200


def test_a_signed_body_that_is_not_an_event_is_refused(app, sessions):
    for payload in (
        b"[]",
        b"{}",
        b'{"id": "evt", "type": "x", "created": "now", "data": {}}',
        b"not json",
    ):
        response = post(app, payload, sign(payload, WEBHOOK_SECRETS[0]))
        assert response.status_code == 400, payload
    assert stored(sessions) == []


def test_webhook_health(app, api):
    assert app.test_client().get("/api/webhooks/stripe/health").status_code == 401
    response = api("finance").get("/api/webhooks/stripe/health")
    assert response.status_code == 200
    assert response.json["secrets_configured"] == 2
    assert response.json["unprocessed_events"] == 0
    assert response.json["out_of_band_events"] == 0
