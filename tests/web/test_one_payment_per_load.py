"""One live payment per load: parallel or later requests with other Idempotency-Keys, or the
same key sent with a second backend key, never charge a load twice. Another payment only
after the earlier ones failed or were canceled, or with an additional_charge_reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from web_helpers import Api, payment_body

from models import Payment
from models.db import transaction
from web.keys import create_key


def payments_of_load(sessions: Any) -> int:
    with transaction(sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_a_later_request_with_another_key_is_refused_with_a_link(backend, parties, sessions):
    first = backend.post("/api/payments/intent", payment_body(*parties), key="k-1")
    assert first.status_code == 202
    second = backend.post("/api/payments/intent", payment_body(*parties), key="k-2")
    assert second.status_code == 409
    error = second.json["error"]
    assert error["code"] == "load_already_charged" and error["field"] == "load_id"
    assert error["links"] == {"payment": f"/api/payments/{first.json['id']}"}
    assert payments_of_load(sessions) == 1


def test_parallel_requests_with_different_keys_create_one_payment(app, tokens, parties, sessions):
    def attempt(n: int) -> tuple[int, Any]:
        response = Api(app.test_client(), tokens["backend"]).post(
            "/api/payments/intent", payment_body(*parties, load_id="LOAD-RACE"), key=f"race-{n}"
        )
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [202] + [409] * 5, results
    codes = {body["error"]["code"] for status, body in results if status == 409}
    assert codes == {"load_already_charged"}
    assert payments_of_load(sessions) == 1


def test_the_same_key_with_a_second_backend_key_replays(app, backend, parties, sessions):
    with transaction(sessions) as session:
        _, other_token = create_key(session, role="backend", name="second backend")
    other = Api(app.test_client(), other_token)
    first = backend.post("/api/payments/intent", payment_body(*parties), key="shared")
    again = other.post("/api/payments/intent", payment_body(*parties), key="shared")
    assert again.status_code == 202 and again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = other.post("/api/payments/intent", payment_body(*parties, amount=9_000), key="shared")
    assert changed.status_code == 409
    assert changed.json["error"]["code"] == "idempotency_key_reused"
    assert payments_of_load(sessions) == 1


def test_another_payment_after_a_failure_or_with_a_reason(backend, parties, sessions):
    first = backend.post("/api/payments/intent", payment_body(*parties)).json
    extra = backend.post(
        "/api/payments/intent",
        payment_body(*parties, carrier_amount=0, additional_charge_reason="detention fee"),
    )
    assert extra.status_code == 202, extra.json
    with transaction(sessions) as session:
        session.execute(update(Payment).where(Payment.id == first["id"]).values(status="failed"))
    retry = backend.post("/api/payments/intent", payment_body(*parties))
    assert retry.status_code == 202, retry.json
    assert backend.post("/api/payments/intent", payment_body(*parties)).status_code == 409


def test_the_database_refuses_a_second_live_payment_for_a_load(backend, parties, sessions):
    backend.post("/api/payments/intent", payment_body(*parties))
    with pytest.raises(IntegrityError, match="uq_payments_one_live_per_load"):
        with transaction(sessions) as session:
            session.execute(
                text(
                    "INSERT INTO payments (load_id, shipper_id, carrier_id, amount, currency,"
                    " carrier_amount) SELECT load_id, shipper_id, carrier_id, 1, 'usd', 0"
                    " FROM payments LIMIT 1"
                )
            )
