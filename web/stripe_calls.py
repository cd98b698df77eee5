"""The few synchronous Stripe calls the API makes, with Stripe's answers mapped to HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from payments.errors import PaymentDeclined, StripeRequestRefused, StripeUnavailable
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


def method_json(pm: dict[str, Any]) -> dict[str, Any]:
    """A PaymentMethod as we show it: brand, last four and expiry at most; never a number."""
    card = pm.get("card") or {}
    shown: dict[str, Any] = {
        "id": pm["id"],
        "object": "payment_method",
        "type": pm.get("type"),
        "created": pm.get("created"),
        "stripe_customer": pm.get("customer"),
    }
    if card:
        shown["card"] = {
            k: card.get(k)
            for k in ("brand", "last4", "exp_month", "exp_year", "funding", "country")
        }
    return shown
