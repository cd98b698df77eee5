"""Refunds and carrier payouts over HTTP: the refusals that need no Stripe, and batch listing."""

from __future__ import annotations

from datetime import date

from web_helpers import payment_body

from models import Carrier, Payment, PayoutBatch
from models.db import transaction


def test_refunds_of_unknown_or_unsettled_payments_are_refused(backend, parties, queued):
    assert backend.post("/api/payments/9/refund", {}).status_code == 404
    created = backend.post("/api/payments/intent", payment_body(*parties)).json
    pending = backend.post(f"/api/payments/{created['id']}/refund", {"amount": 100})
    assert pending.status_code == 409
    assert pending.json["error"]["code"] == "payment_not_refundable"
    bad_reason = backend.post(f"/api/payments/{created['id']}/refund", {"reason": "because"})
    assert bad_reason.status_code == 422 and bad_reason.json["error"]["field"] == "reason"
    assert queued("refunds") == []
    assert backend.get("/api/refunds/1").status_code == 404


def test_refund_of_a_succeeded_payment_is_accepted_within_the_refundable(
    backend, parties, sessions, queued
):
    created = backend.post("/api/payments/intent", payment_body(*parties)).json
    with transaction(sessions) as session:  # as if Stripe had said succeeded
        payment = session.get(Payment, created["id"])
        assert payment is not None
        payment.status, payment.recovery_point = "succeeded", "finished"
        payment.stripe_payment_intent_id = "pi_test"
    too_much = backend.post(f"/api/payments/{created['id']}/refund", {"amount": 10_001})
    assert too_much.status_code == 422 and too_much.json["error"]["field"] == "amount"
    first = backend.post(f"/api/payments/{created['id']}/refund", {"amount": 4_000})
    assert first.status_code == 202
    assert first.json["status"] == "pending" and first.json["amount"] == 4_000
    rest = backend.post(f"/api/payments/{created['id']}/refund", None)
    assert rest.status_code == 202 and rest.json["amount"] == 6_000
    nothing_left = backend.post(f"/api/payments/{created['id']}/refund", {})
    assert nothing_left.status_code == 422
    assert [m.args for m in queued("refunds")] == [(first.json["id"],), (rest.json["id"],)]
    listing = backend.get(f"/api/payments/{created['id']}/refunds").json["data"]
    assert [r["amount"] for r in listing] == [4_000, 6_000]
    assert backend.get(f"/api/refunds/{first.json['id']}").json["payment_id"] == created["id"]


def test_transfers_and_payouts_need_an_onboarded_carrier(backend, parties):
    _, carrier_id = parties
    body = {"carrier_id": carrier_id, "amount": 500, "currency": "usd"}
    transfer = backend.post("/api/payouts/connect/transfers", body)
    assert transfer.status_code == 409
    assert transfer.json["error"]["code"] == "payouts_not_enabled"
    payout = backend.post("/api/payouts/connect/payouts", {**body, "method": "instant"})
    assert payout.status_code == 409
    unknown = backend.post("/api/payouts/connect/transfers", {**body, "carrier_id": 999})
    assert unknown.status_code == 422 and unknown.json["error"]["field"] == "carrier_id"
    bad_method = backend.post("/api/payouts/connect/payouts", {**body, "method": "fast"})
    assert bad_method.status_code == 422 and bad_method.json["error"]["field"] == "method"


def test_more_than_is_owed_cannot_be_transferred(backend, parties, sessions):
    _, carrier_id = parties
    with transaction(sessions) as session:
        carrier = session.get(Carrier, carrier_id)
        assert carrier is not None
        carrier.stripe_account_id, carrier.payouts_enabled = "acct_ready", True
    body = {"carrier_id": carrier_id, "amount": 500, "currency": "usd"}
    response = backend.post("/api/payouts/connect/transfers", body)
    assert response.status_code == 422 and response.json["error"]["field"] == "amount"
    payout = backend.post("/api/payouts/connect/payouts", {**body, "method": "standard"})
    assert payout.status_code == 422 and payout.json["error"]["field"] == "amount"


def test_connected_account_request_and_state(backend, parties, queued):
    _, carrier_id = parties
    before = backend.get(f"/api/payouts/connect/accounts/{carrier_id}").json
    assert before["status"] == "not_requested" and before["requirements"] is None
    response = backend.post("/api/payouts/connect/accounts", {"carrier_id": carrier_id})
    assert response.status_code == 202 and response.json["status"] == "pending"
    assert [m.args for m in queued("accounts")] == [(carrier_id,)]
    link = backend.post(f"/api/payouts/connect/accounts/{carrier_id}/onboarding-link", {})
    assert link.status_code == 409 and link.json["error"]["code"] == "account_not_ready"
    assert backend.post("/api/payouts/connect/accounts", {"carrier_id": 0}).status_code == 422
    assert backend.get("/api/payouts/connect/accounts/999").status_code == 404


def test_batches_are_listed_newest_first_with_filters_and_pages(backend, parties, sessions):
    _, carrier_id = parties
    with transaction(sessions) as session:
        for day, status in ((1, "paid"), (2, "failed"), (3, "paid")):
            session.add(
                PayoutBatch(
                    carrier_id=carrier_id,
                    amount=100 * day,
                    currency="usd",
                    period=date(2026, 1, day),
                    flow="batch",
                    status=status,
                )
            )
    page = backend.get("/api/payouts/batches?limit=2").json
    assert [b["amount"] for b in page["data"]] == [300, 200] and page["has_more"] is True
    rest = backend.get(f"/api/payouts/batches?limit=2&starting_after={page['next_starting_after']}")
    assert [b["amount"] for b in rest.json["data"]] == [100] and rest.json["has_more"] is False
    paid = backend.get(f"/api/payouts/batches?status=paid&carrier_id={carrier_id}").json["data"]
    assert [b["amount"] for b in paid] == [300, 100]
    one = backend.get(f"/api/payouts/batches/{paid[0]['id']}")
    assert one.status_code == 200 and one.json["status"] == "paid"
    for bad in ("limit=0", "limit=x", "status=lost", "color=red", "limit=1&limit=2"):
        response = backend.get(f"/api/payouts/batches?{bad}")
        assert response.status_code == 422, bad
        assert response.json["error"]["field"]
