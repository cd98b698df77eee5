"""Stripe webhooks: signature checked against every configured secret (rotation), the event
stored once by its id, processing enqueued (unless the event only tells us an outcome we
recorded already: payments.webhook_events.receive_event), and Stripe answered at once.

Authenticated by Stripe's signature alone (no API key). A signature whose timestamp is more
than the tolerance (300 s) away from now is refused, so a captured request cannot be replayed.
A duplicate delivery is acknowledged without being stored or enqueued again; out-of-order
events converge because the handlers re-read Stripe's current object (payments.webhook_events).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import stripe
from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import func, select

from jobs.enqueue import send_after_commit
from jobs.messages import PROCESS_EVENT
from models import WebhookEvent
from models.db import transaction
from models.events import EventStatus
from payments.webhook_events import receive_event
from web.auth import READ, requires
from web.bodies import parse_json, raw_body
from web.context import state
from web.errors import MalformedRequest

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)
SIGNATURE_HEADER = "Stripe-Signature"
WEBHOOK_PATH = "/api/webhooks/stripe"


class InvalidSignature(MalformedRequest):
    code = "invalid_signature"


def verify(payload: bytes, header: str, secrets: tuple[str, ...], tolerance_s: int) -> None:
    """Raise InvalidSignature unless some secret signed this payload within the tolerance."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature("payload is not UTF-8", field=SIGNATURE_HEADER) from None
    reason = "no webhook secret is configured"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance=tolerance_s)
            return
        except stripe.SignatureVerificationError as error:
            message = str(error.user_message or error)
            # A secret that matched but too long ago says more than the others' mismatch.
            if "tolerance" not in reason:
                reason = message
    raise InvalidSignature(f"Stripe signature refused: {reason}", field=SIGNATURE_HEADER)


def signed_by_stripe() -> bool:
    """Whether this request is a webhook delivery whose signature verifies (remembered for the
    view, so the HMAC is computed once)."""
    header = request.headers.get(SIGNATURE_HEADER)
    if request.method != "POST" or request.path != WEBHOOK_PATH or not header:
        return False
    app_state = state()
    try:
        secrets = app_state.settings.stripe_webhook_secrets
        verify(raw_body(), header, secrets, app_state.webhook_tolerance_s)
    except InvalidSignature:
        return False
    g.stripe_signature_verified = True
    return True


# Stripe ids are letters, digits and underscores; `created` is a Unix time in our era.
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_CREATED_RANGE = range(1_262_304_000, 4_102_444_800)  # 2010-01-01 .. 2100-01-01


def _has_nul(value: Any) -> bool:
    """PostgreSQL text and JSONB cannot hold NUL; iterative, the depth is bounded already."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _event(payload: bytes) -> dict[str, Any]:
    event = parse_json(payload)
    created = event.get("created") if isinstance(event, dict) else None
    if isinstance(created, float) and created.is_integer():
        event["created"] = int(created)  # 1.7e9 is the integer JSON Schema says it is
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    ok = (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and _STRIPE_ID.fullmatch(event["id"]) is not None
        and isinstance(event.get("type"), str)
        and 0 < len(event["type"]) <= 100
        and type(event.get("created")) is int
        and event["created"] in _CREATED_RANGE
        and isinstance(obj, dict)
        and isinstance(obj.get("id"), str)
        and _STRIPE_ID.fullmatch(obj["id"]) is not None
        and (event.get("account") is None or isinstance(event.get("account"), str))
    )
    if not ok:
        raise MalformedRequest(
            "not a Stripe event (id, type, created as a Unix time, data.object with an id"
            " expected)"
        )
    if _has_nul(event):
        raise MalformedRequest("a Stripe event cannot contain NUL characters")
    return event


@bp.post(WEBHOOK_PATH)
def receive() -> Response:
    payload = raw_body()
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header", field=SIGNATURE_HEADER)
    app_state = state()
    if not g.get("stripe_signature_verified"):
        verify(
            payload,
            header,
            app_state.settings.stripe_webhook_secrets,
            app_state.webhook_tolerance_s,
        )
    event = _event(payload)
    with transaction(app_state.sessions) as session:
        receipt = receive_event(session, event)
    if receipt.to_process:
        send_after_commit(state().broker, PROCESS_EVENT, receipt.row_id)
    outcome = "stored, outcome recorded already" if receipt.new else "duplicate"
    log.info(
        "webhook %s",
        "stored" if receipt.to_process else outcome,
        extra={"event_id": event["id"], "event_type": event["type"]},
    )
    return jsonify({"received": True, "id": event["id"], "duplicate": not receipt.new})


@bp.get("/api/webhooks/stripe/health")
@requires(READ)
def health() -> Response:
    with transaction(state().sessions) as session:
        last = session.scalar(select(func.max(WebhookEvent.received_at)))
        backlog = session.scalar(
            select(func.count()).where(
                WebhookEvent.status.in_((EventStatus.RECEIVED, EventStatus.FAILED))
            )
        )
        out_of_band = session.scalar(
            select(func.count()).where(WebhookEvent.status == EventStatus.OUT_OF_BAND)
        )
    return jsonify(
        {
            "status": "ok",
            "secrets_configured": len(state().settings.stripe_webhook_secrets),
            "last_event_received_at": last.isoformat() if last else None,
            "unprocessed_events": int(backlog or 0),
            "out_of_band_events": int(out_of_band or 0),
        }
    )
