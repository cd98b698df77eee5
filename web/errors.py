"""Errors of the web layer: each becomes a JSON body {"error": {code, message, field}}.

A root error carries the HTTP status and a stable machine-readable code; leaves are named
after the condition. Domain errors (payments.errors, models.errors) are translated in app.py.
"""

from __future__ import annotations

from typing import Any

from models.errors import MidwayError


class ApiError(MidwayError):
    """Root of the errors the API answers with. Subclasses fix status and code."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if request_id:
            error["request_id"] = request_id
        return {"error": error}


class MalformedRequest(ApiError):
    """The body is not JSON, or a header is unusable."""

    status = 400
    code = "malformed_request"


class ValidationFailed(ApiError):
    """A field is missing, unknown, of the wrong type or out of range."""

    status = 422
    code = "validation_failed"


class CardDataRefused(ValidationFailed):
    """Something that looks like a raw card number: we never accept PANs."""

    code = "card_data_refused"


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class ResourceNotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    """The request is valid but the resource's state refuses it."""

    status = 409
    code = "conflict"


class LoadAlreadyCharged(Conflict):
    """The load has a live payment; the body links to it."""

    code = "load_already_charged"

    def __init__(self, message: str, *, payment_id: int) -> None:
        super().__init__(message, field="load_id")
        self.payment_id = payment_id

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        body = super().body(request_id)
        body["error"]["links"] = {"payment": f"/api/payments/{self.payment_id}"}
        return body


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class PaymentRequired(ApiError):
    """Stripe declined the payment method (attaching a card that is refused)."""

    status = 402
    code = "card_declined"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"
