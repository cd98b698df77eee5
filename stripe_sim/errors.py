"""Errors the simulator answers with, shaped like Stripe's error objects.

A handler raises one of these; the server turns it into Stripe's JSON error body and HTTP
status. Raising before any state change is what guarantees "4xx and no state change".
"""

from __future__ import annotations

from typing import Any


class StripeSimError(Exception):
    """Root error: an API error with Stripe's `type`, `code`, `param` and HTTP status."""

    status = 400
    type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        # Stripe omits absent keys; we keep the four documented keys always present (null when
        # not applicable) so clients can read them without guarding.
        err: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
        }
        if self.code:
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        err.update(self.extra)
        return {"error": err}


class InvalidRequest(StripeSimError):
    status = 400
    type = "invalid_request_error"


class ResourceMissing(InvalidRequest):
    status = 404

    def __init__(self, kind: str, obj_id: str, param: str = "id") -> None:
        super().__init__(
            f"No such {kind}: '{obj_id}'", code="resource_missing", param=param
        )


class UnknownUrl(InvalidRequest):
    status = 404

    def __init__(self, method: str, path: str) -> None:
        super().__init__(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/."
        )


class AuthenticationFailed(StripeSimError):
    status = 401
    type = "invalid_request_error"


class PermissionDenied(StripeSimError):
    status = 403
    type = "invalid_request_error"


class CardError(StripeSimError):
    status = 402
    type = "card_error"


class IdempotencyError(StripeSimError):
    status = 400
    type = "idempotency_error"


class RateLimited(StripeSimError):
    status = 429
    type = "invalid_request_error"


class ApiError(StripeSimError):
    status = 500
    type = "api_error"
