"""Idempotency-Key on every POST: the same key and body replay the first response; the same key
with another request is a 409 that says so.

The POSTs that move money (a charge, its confirmation, a refund, a transfer, a payout) require
the header: a client that retries one after a timeout without a key could move the money twice,
so such a POST without a key is a 400 naming the header, and nothing is done. On every other
POST (customers, carriers, payment methods, Connect accounts, reconciliation runs) the key is
optional: without one, each request is a new request.

The key row is inserted in the same transaction as the work it guards and filled with the
response before COMMIT, so there is never a key without its effect or an effect without its
key. A concurrent twin blocks on the unique index on the key until the first commits,
then replays it. A request that fails (4xx) rolls back with its key: the key stays unused and
a corrected retry may use it. Keys are scoped to the installation, as Stripe scopes them to the
account: the same key sent with a second API key is the same request (a replay) or a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobs.enqueue import send_after_commit
from jobs.messages import ActorRef
from models import IdempotencyKey
from models.db import transaction
from web.auth import current_key
from web.context import state
from web.errors import IdempotencyKeyReused, MalformedRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The Flask rules of the POSTs that move money (see the module docstring).
KEY_REQUIRED_RULES = frozenset(
    {
        "/api/payments/intent",
        "/api/payments/intent/<int:payment_id>/confirm",
        "/api/payments/<int:payment_id>/refund",
        "/api/payouts/connect/transfers",
        "/api/payouts/connect/payouts",
    }
)


@dataclass
class Accepted:
    """What a POST's work produced: the response, and the jobs to send after COMMIT."""

    status: int
    body: dict[str, Any]
    enqueue: list[tuple[ActorRef, int]] = field(default_factory=list)


def idempotency_key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        if request.url_rule is not None and request.url_rule.rule in KEY_REQUIRED_RULES:
            raise MalformedRequest(
                f"{HEADER} header is required on a POST that moves money: send a key unique to"
                " this operation (e.g. load-4711-charge) and the same key again on any retry,"
                " so that a retry can never move the money twice",
                field=HEADER,
                code="idempotency_key_required",
            )
        return None
    if not 1 <= len(raw) <= 255 or not raw.isascii() or not raw.isprintable():
        raise MalformedRequest(
            f"{HEADER} must be 1 to 255 printable ASCII characters", field=HEADER
        )
    return raw


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _respond(status: int, body: dict[str, Any], *, replayed: bool) -> Response:
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


def run_post(payload: Any, work: Callable[[Session], Accepted]) -> Response:
    """Run `work` in one transaction guarded by the request's Idempotency-Key, if any; send its
    jobs after COMMIT."""
    key = idempotency_key()
    api_key_id = current_key().id
    fingerprint = request_fingerprint(payload)
    with transaction(state().sessions) as session:
        if key is not None:
            row_id = session.execute(
                insert(IdempotencyKey)
                .values(
                    api_key_id=api_key_id,
                    key=key,
                    request_method=request.method,
                    request_path=request.path[:500],
                    request_hash=fingerprint,
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(IdempotencyKey.id)
            ).scalar_one_or_none()
            if row_id is None:
                first = session.scalars(
                    select(IdempotencyKey).where(IdempotencyKey.key == key)
                ).one()
                if first.request_hash != fingerprint or first.response_status is None:
                    raise IdempotencyKeyReused(
                        f"this {HEADER} was already used for a different request"
                        f" ({first.request_method} {first.request_path} with another body);"
                        " send a new key for a new request",
                        field=HEADER,
                    )
                return _respond(first.response_status, first.response_body or {}, replayed=True)
        accepted = work(session)
        if key is not None:  # one UPDATE, without loading the row back
            session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row_id)
                .values(response_status=accepted.status, response_body=accepted.body)
            )
    for ref, row_id in accepted.enqueue:
        send_after_commit(state().broker, ref, row_id)
    return _respond(accepted.status, accepted.body, replayed=False)
