"""Map the stripe SDK's exceptions onto ours: final declines and refusals, transient outages."""

from __future__ import annotations

from typing import Any

import stripe

from payments.errors import (
    GatewayError,
    OutcomeUnknown,
    PaymentDeclined,
    StripeRequestRefused,
    StripeUnavailable,
)

DEFAULT_RETRY_AFTER_S = 2.0


def _header(error: stripe.StripeError, name: str) -> str | None:
    headers = error.headers or {}
    value = headers.get(name) or headers.get(name.lower())
    return str(value) if value is not None else None


def _retry_after(error: stripe.StripeError) -> float:
    raw = _header(error, "Retry-After")
    try:
        return max(float(raw), 0.1) if raw is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


def _error_body(error: stripe.StripeError) -> dict[str, Any]:
    body = error.json_body if isinstance(error.json_body, dict) else {}
    inner = body.get("error")
    return inner if isinstance(inner, dict) else {}


def _id_of(obj: Any) -> str | None:
    """The id of the PaymentIntent a card error carries (the object, or just its id)."""
    if isinstance(obj, dict):
        obj = obj.get("id")
    return obj if isinstance(obj, str) else None


def translate(error: stripe.StripeError) -> GatewayError:
    """Our error for a Stripe SDK error: is it final, and what should users read."""
    body = _error_body(error)
    message = body.get("message") or str(error)
    if isinstance(error, stripe.CardError):
        return PaymentDeclined(
            message,
            code=error.code,
            decline_code=body.get("decline_code"),
            payment_intent_id=_id_of(body.get("payment_intent")),
        )
    if isinstance(error, stripe.RateLimitError):
        return StripeUnavailable(f"Stripe rate limit: {message}", retry_after_s=_retry_after(error))
    if isinstance(error, stripe.APIConnectionError):
        # A timeout or dropped connection: the request may have been performed.
        return OutcomeUnknown(f"Stripe unreachable: {message}")
    status = error.http_status or 0
    if status == 409:
        # idempotency_key_in_use: a twin of this job (or a request we gave up on) is still
        # being processed with our key; what it did is unknown until it finishes.
        return OutcomeUnknown(f"Stripe error 409: {message}", retry_after_s=_retry_after(error))
    if status >= 500 and _header(error, "Stripe-Should-Retry") == "false":
        # Stripe saved this 500 for our key (it may have acted): the same key replays it, so
        # only a look-up can tell. https://docs.stripe.com/api/idempotent_requests
        return OutcomeUnknown(
            f"Stripe error {status} (replayed for its idempotency key): {message}",
            retry_after_s=_retry_after(error),
        )
    if status >= 500:
        return StripeUnavailable(
            f"Stripe error {status}: {message}", retry_after_s=_retry_after(error)
        )
    return StripeRequestRefused(
        message, code=error.code or body.get("code"), param=body.get("param")
    )
