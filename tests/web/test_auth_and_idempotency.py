"""API keys and roles, per-key rate limits, and Idempotency-Key replay and mismatch."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from web_helpers import Api, make_test_app, payment_body

from cli.main import cli
from models import ApiKey, IdempotencyKey, Payment
from models.db import transaction


def rows(sessions: Any, model: Any) -> int:
    with transaction(sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


ENQUEUE_POSTS = [
    ("/api/customers", {"name": "n", "email": "e@e.test", "external_id": "x"}),
    (
        "/api/carriers",
        {"name": "n", "email": "e@e.test", "country": "US", "default_currency": "usd"},
    ),
    ("/api/payments/intent", {}),
    ("/api/payments/intent/1/confirm", {"payment_method": "pm_card_visa"}),
    ("/api/payments/1/refund", {}),
    ("/api/payments/methods", {"customer_id": 1, "payment_method": "pm_card_visa"}),
    ("/api/payouts/connect/accounts", {"carrier_id": 1}),
    ("/api/payouts/connect/accounts/1/onboarding-link", {}),
    ("/api/payouts/connect/transfers", {"carrier_id": 1, "amount": 1, "currency": "usd"}),
    (
        "/api/payouts/connect/payouts",
        {"carrier_id": 1, "amount": 1, "currency": "usd", "method": "standard"},
    ),
]
READS = [
    "/api/customers/1",
    "/api/carriers/1",
    "/api/payments/1",
    "/api/payments/1/refunds",
    "/api/refunds/1",
    "/api/payments/methods/customer/1",
    "/api/payouts/connect/accounts/1",
    "/api/payouts/batches",
    "/api/payouts/batches/1",
]


@pytest.mark.parametrize(("path", "body"), ENQUEUE_POSTS, ids=[p for p, _ in ENQUEUE_POSTS])
def test_every_post_needs_a_key_with_the_enqueue_permission(api, path, body):
    missing = api(None).post(path, body)
    assert missing.status_code == 401 and missing.json["error"]["code"] == "unauthenticated"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = Api(api(None).client, "mwk_000000000000.nope").post(path, body)
    assert wrong.status_code == 401
    # finance may not enqueue: 403 whether or not id 1 exists (no existence leak)
    forbidden = api("finance").post(path, body)
    assert forbidden.status_code == 403 and forbidden.json["error"]["code"] == "forbidden"
    assert api("admin").post(path, body).status_code not in (401, 403)


@pytest.mark.parametrize("path", READS)
def test_reads_need_a_key_and_every_role_may_read(api, path):
    assert api(None).get(path).status_code == 401
    for role in ("backend", "finance", "admin"):
        assert api(role).get(path).status_code not in (401, 403), (role, path)


def test_delete_needs_enqueue_permission(api):
    assert api(None).delete("/api/payments/methods/pm_x").status_code == 401
    assert api("finance").delete("/api/payments/methods/pm_x").status_code == 403


def test_client_secret_is_shown_to_the_backend_role_only(api, parties):
    created = api("backend").post("/api/payments/intent", payment_body(*parties)).json
    assert "client_secret" in api("backend").get(f"/api/payments/{created['id']}").json
    for role in ("finance", "admin"):
        assert "client_secret" not in api(role).get(f"/api/payments/{created['id']}").json


def test_a_revoked_key_stops_working_and_keys_are_stored_hashed(api, tokens, sessions):
    backend = api("backend")
    assert backend.get("/api/payouts/batches").status_code == 200
    with transaction(sessions) as session:
        stored = session.scalars(select(ApiKey)).all()
        assert all(tokens["backend"] not in (k.secret_hash, k.prefix) for k in stored)
        key = next(k for k in stored if k.role == "backend")
        assert key.last_used_at is not None
        from web.keys import revoke_key

        revoke_key(session, key.prefix)
    assert backend.get("/api/payouts/batches").status_code == 401


def test_rate_limit_per_key(sessions, gateway, broker, tokens):
    app = make_test_app(sessions, gateway, RATE_LIMIT=(3, 60))
    backend = Api(app.test_client(), tokens["backend"])
    finance = Api(app.test_client(), tokens["finance"])
    statuses = [backend.get("/api/payouts/batches").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = backend.get("/api/payouts/batches")
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert finance.get("/api/payouts/batches").status_code == 200  # another key, its own budget


def test_keys_cli_creates_lists_and_revokes(
    committed_database_url, monkeypatch, sessions, gateway, broker
):
    monkeypatch.setenv("DATABASE_URL", committed_database_url)
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "finance", "--name", "ledger team"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("mwk_")
    listing = runner.invoke(cli, ["keys", "list"])
    assert "ledger team" in listing.output and secret not in listing.output
    app = make_test_app(sessions, gateway)
    finance = Api(app.test_client(), secret)
    assert finance.get("/api/payouts/batches").status_code == 200
    assert finance.post("/api/carriers", {}).status_code == 403
    prefix = secret.split(".")[0]
    revoked = runner.invoke(cli, ["keys", "revoke", prefix])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert finance.get("/api/payouts/batches").status_code == 401
    bad = runner.invoke(cli, ["keys", "create", "--role", "root", "--name", "x"])
    assert bad.exit_code == 2
    assert runner.invoke(cli, ["keys", "revoke", "mwk_nope"]).exit_code == 2


# Idempotency ------------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_response(backend, parties, sessions, queued):
    body = payment_body(*parties)
    first = backend.post("/api/payments/intent", body, key="order-77")
    second = backend.post("/api/payments/intent", dict(reversed(body.items())), key="order-77")
    assert first.status_code == second.status_code == 202
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert rows(sessions, Payment) == 1
    assert len(queued("charges")) == 1  # the replay enqueues nothing


def test_same_key_with_another_body_is_a_409_saying_so(backend, parties, sessions):
    body = payment_body(*parties)
    assert backend.post("/api/payments/intent", body, key="k1").status_code == 202
    other = backend.post("/api/payments/intent", {**body, "amount": 20_000}, key="k1")
    assert other.status_code == 409
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert "different request" in other.json["error"]["message"]
    assert other.json["error"]["field"] == "Idempotency-Key"
    elsewhere = backend.post(
        "/api/carriers",
        {"name": "n", "email": "e@e.test", "country": "US", "default_currency": "usd"},
        key="k1",
    )
    assert elsewhere.status_code == 409
    assert rows(sessions, Payment) == 1


def test_a_refused_request_does_not_use_up_its_key(backend, parties, sessions):
    body = payment_body(*parties)
    refused = backend.post("/api/payments/intent", {**body, "amount": 0}, key="retry-me")
    assert refused.status_code == 422
    assert rows(sessions, IdempotencyKey) == 0
    fixed = backend.post("/api/payments/intent", body, key="retry-me")
    assert fixed.status_code == 202 and "Idempotent-Replayed" not in fixed.headers


def test_a_bad_idempotency_key_header_is_refused(backend, parties):
    response = backend.post("/api/payments/intent", payment_body(*parties), key="x" * 256)
    assert response.status_code == 400
    assert response.json["error"]["field"] == "Idempotency-Key"


def test_concurrent_twins_create_one_payment(app, tokens, parties, sessions):
    body = payment_body(*parties)
    results: list[Any] = []

    def send() -> None:
        client = Api(app.test_client(), tokens["backend"])
        results.append(client.post("/api/payments/intent", body, key="twin"))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [202] * 6
    assert len({r.json["id"] for r in results}) == 1
    assert rows(sessions, Payment) == 1
