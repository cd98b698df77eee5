"""A body over API_MAX_BODY_BYTES is 413 and changes nothing, however it is framed: a chunked
body (no Content-Length, as gunicorn hands it over) is not truncated to a processed prefix."""

from __future__ import annotations

import io
import json
import uuid

from sqlalchemy import func, select
from web_helpers import payment_body

from models import Payment
from models.db import transaction

LIMIT = 4096  # make_test_app's API_MAX_BODY_BYTES
# How gunicorn hands a chunked body to the app: decoded, terminated, without a length.
GUNICORN_CHUNKED = {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}


def chunked_post(app, token: str, path: str, body: bytes):
    return app.test_client().post(
        path,
        input_stream=io.BytesIO(body),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "Idempotency-Key": f"chunked-{uuid.uuid4().hex}",
        },
        environ_overrides=GUNICORN_CHUNKED,
    )


def payments(sessions) -> int:
    with transaction(sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_written(
    app, tokens, parties, sessions
):
    payload = json.dumps(payment_body(*parties)).encode()
    # A complete payment request padded past the limit: its prefix alone would be accepted.
    oversized = payload + b" " * (LIMIT + 100 - len(payload))
    response = chunked_post(app, tokens["backend"], "/api/payments/intent", oversized)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert payments(sessions) == 0


def test_a_chunked_body_within_the_limit_is_processed(app, tokens, parties, sessions):
    payload = json.dumps(payment_body(*parties)).encode()
    response = chunked_post(app, tokens["backend"], "/api/payments/intent", payload)
    assert response.status_code == 202, response.json
    assert payments(sessions) == 1


def test_a_chunked_form_over_the_limit_is_413(app):
    response = app.test_client().post(
        "/sign-in",
        input_stream=io.BytesIO(b"api_key=" + b"a" * (LIMIT + 10)),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides=GUNICORN_CHUNKED,
    )
    assert response.status_code == 413
