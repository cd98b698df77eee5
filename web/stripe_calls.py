"""The few synchronous Stripe calls the API makes, with Stripe's answers mapped to HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from payments.errors import PaymentDeclined, StripeRequestRefused, StripeUnavailable
from payments.gateway.records_parties import PaymentMethod
from web.errors import PaymentRequired, ResourceNotFound, ServiceUnavailable, ValidationFailed

T = TypeVar("T")


def call_stripe(request: Callable[[], T], *, field: str | None = None) -> T:
    try:
        return request()
    except StripeUnavailable as error:
        raise ServiceUnavailable(
            "Stripe cannot be reached right now; retry later",
            code="stripe_unavailable",
            headers={"Retry-After": str(max(1, int(error.retry_after_s + 0.999)))},
        ) from error
    except PaymentDeclined as error:
        raise PaymentRequired(
            str(error), field=field, code=error.decline_code or error.code or "card_declined"
        ) from error
    except StripeRequestRefused as error:
        if error.code == "resource_missing" and field is None:
            raise ResourceNotFound(str(error)) from error
        raise ValidationFailed(
            f"Stripe refused the request: {error}",
            field=field or error.param,
            code=error.code or "stripe_refused",
        ) from error


def method_json(pm: PaymentMethod) -> dict[str, Any]:
    """A PaymentMethod as we show it: brand, last four and expiry at most; never a number."""
    shown: dict[str, Any] = {
        "id": pm.id,
        "object": "payment_method",
        "type": pm.type,
        "created": pm.created,
        "stripe_customer": pm.customer,
    }
    if pm.card is not None:
        shown["card"] = dict(pm.card)
    return shown
