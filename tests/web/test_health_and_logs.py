"""Operators' endpoints, and JSON logs that carry the request id and never a secret."""

from __future__ import annotations

import dataclasses
import json
import logging

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from web_helpers import Api, make_test_app, payment_body

from config.logging import JsonFormatter, redact
from jobs.stripe_guard import OPEN_KEY


def test_healthz_readyz_and_metrics(app, backend):
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "redis": "ok", "stripe_circuit": "closed"}
    backend.get("/api/payouts/batches")
    state = app.extensions["midway"]
    state.settings = dataclasses.replace(state.settings, metrics_token="scrape-token")
    metrics = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
    assert metrics.status_code == 200 and metrics.mimetype == "text/plain"
    assert 'midway_http_requests_total{method="GET",route="/api/payouts/batches",status="200"}' in (
        metrics.get_data(as_text=True)
    )


def test_readyz_reports_an_open_stripe_circuit(app):
    state = app.extensions["midway"]
    state.redis.set(OPEN_KEY, "1", px=5_000)
    try:
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 200  # the API still accepts work; jobs wait for Stripe
        assert ready.json["checks"]["stripe_circuit"] == "open"
        assert ready.json["stripe_circuit_open_for_s"] > 0
    finally:
        state.redis.delete(OPEN_KEY)


def test_readyz_fails_without_redis_and_the_api_still_answers(sessions, gateway, broker, tokens):
    dead = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    app = make_test_app(sessions, gateway, REDIS=dead)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["redis"] == "unavailable"
    # the rate limiter fails open rather than taking the API down with Redis
    assert Api(app.test_client(), tokens["backend"]).get("/api/payouts/batches").status_code == 200


def test_redaction_scrubs_secrets_and_card_numbers():
    text = (
        "key sk_live_abcDEF123 whsec_abc_123 pi_3Nabc_secret_XYZ9 Bearer mwk_0123456789ab.s3cr"
        " mwk_0123456789ab.tok-en 4242 4242 4242 4242"
    )
    scrubbed = redact(text)
    for secret in ("abcDEF123", "whsec_abc_123", "XYZ9", "s3cr", "tok-en", "4242 4242"):
        assert secret not in scrubbed


def test_request_logs_are_json_with_request_id_and_no_secrets(app, backend, parties, caplog):
    caplog.set_level(logging.INFO)
    response = backend.post(
        "/api/payments/intent",
        payment_body(*parties, description="card 4242424242424242"),
        headers={"X-Request-Id": "req-log-check-1"},
    )
    assert response.status_code == 422
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    access = [json.loads(line) for line in lines if '"logger": "midway.web.access"' in line]
    assert access and access[-1]["request_id"] == "req-log-check-1"
    assert access[-1]["status"] == 422 and access[-1]["path"] == "/api/payments/intent"
    assert access[-1]["api_key"].startswith("mwk_")
    joined = "\n".join(lines)
    assert backend.token not in joined and backend.token.split(".")[1] not in joined
    assert "4242424242424242" not in joined


def test_unknown_routes_and_methods_answer_in_the_error_format(app):
    client = app.test_client()
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.delete("/api/payments/intent")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
