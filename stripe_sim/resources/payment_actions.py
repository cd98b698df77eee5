"""PaymentIntent actions: confirm (charging the payment method), capture, cancel.

Test cards succeed or decline with Stripe's decline codes (402 card_error, the PaymentIntent
back to requires_payment_method); manual capture stops at requires_capture; bank debits
(pm_usBankAccount) go through `processing` for business days (bank_debits.py).
"""

from __future__ import annotations

from typing import Any

from .. import currencies
from ..collection import Obj
from ..errors import CardError, InvalidRequest
from ..events import changed, emit
from ..params import Params, merge_metadata
from ..router import Ctx, route
from ..testcards import DECLINE_MESSAGES, FIELD_ERRORS
from . import bank_debits, charges, disputes, payment_methods, transfers

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
CONFIRM_EXTRAS = ("return_url", "off_session", "mandate_data", "payment_method_options",
                   "error_on_requires_action", "use_stripe_sdk", "setup_future_usage",
                   "shipping", "receipt_email", "mandate", "payment_method_data", "radar_options")


def unexpected_state(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="payment_intent_unexpected_state")


def check_fee(ctx: Ctx, fee: int | None, amount: int, destination: str | None) -> None:
    if fee is None:
        return
    if fee > amount:
        raise InvalidRequest(
            "The application fee amount cannot be greater than the amount.",
            param="application_fee_amount",
        )
    if ctx.acct.is_platform and not destination:
        raise InvalidRequest(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param="application_fee_amount",
        )


REDIRECT_NEEDS_RETURN_URL = (
    "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. "
    "Because some of these payment methods might redirect your customer off of your page, you "
    "must provide a `return_url`. If you don't want to accept redirect-based payment methods, "
    "set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and "
    "Payment Intents."
)


def check_return_url(pi: Obj, return_url: str | None) -> None:
    """Server-side confirmation of a PaymentIntent whose automatic payment methods may redirect
    (`allow_redirects` "always", the default without `payment_method_types`) needs a
    `return_url`. Source: https://docs.stripe.com/api/payment_intents/confirm (return_url) and
    https://docs.stripe.com/payments/payment-methods/integration-options#redirects ."""
    auto = pi["automatic_payment_methods"]
    if auto and auto.get("enabled") and auto.get("allow_redirects") != "never" and not return_url:
        raise InvalidRequest(REDIRECT_NEEDS_RETURN_URL, param="return_url")


def check_confirmable(
    ctx: Ctx, pi: Obj, pm_id: str | None, return_url: str | None = None
) -> None:
    """Every reason confirming `pi` with `pm_id` is a 400, checked before anything changes
    (the PaymentIntent, a materialized test PaymentMethod), so a bad request leaves no trace."""
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        if pi["status"] == "succeeded":
            raise unexpected_state(
                "You cannot confirm this PaymentIntent because it has already succeeded after "
                "being previously confirmed."
            )
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}."
        )
    if not pm_id:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To "
            "confirm the PaymentIntent, pass a payment_method with this request."
        )
    pm_type = payment_methods.type_of(ctx, pm_id, "payment_method")
    allowed = pi["automatic_payment_methods"] or pm_type in pi["payment_method_types"]
    if not allowed:
        raise InvalidRequest(
            f"The PaymentMethod provided ({pm_type}) is not allowed for this PaymentIntent. "
            "Please attach a PaymentMethod of one of the following types: "
            + ", ".join(pi["payment_method_types"]),
            code="payment_intent_incompatible_payment_method", param="payment_method",
        )
    if pm_type == "us_bank_account" and pi["currency"] != "usd":
        raise InvalidRequest(
            "us_bank_account payments must be in usd.", code="payment_intent_invalid_parameter",
            param="currency",
        )
    dest = (pi["transfer_data"] or {}).get("destination")
    if dest:
        transfers.destination_of(ctx, dest, "transfer_data[destination]")
    check_return_url(pi, return_url)


def confirm_intent(ctx: Ctx, pi: Obj, return_url: str | None = None) -> None:
    check_confirmable(ctx, pi, pi["payment_method"], return_url)
    pm = ctx.store.get(ctx.acct, "payment_method", pi["payment_method"], "payment_method")
    magic = payment_methods.behaviour(ctx, pm)
    charge = charges.new_charge(ctx, pi, pm)
    pi["latest_charge"] = charge["id"]
    if magic.decline_code:
        _decline(ctx, pi, charge, pm, magic)
        return
    if pm["type"] == "us_bank_account":
        bank_debits.start(ctx, pi, charge, magic)
        return
    info = ctx.store.internal(ctx.acct, charge["id"])
    info["bypass"] = magic.bypass_pending
    info["dispute_reason"] = magic.dispute_reason
    if pi["capture_method"] == "manual":
        charge.update({"status": "succeeded", "paid": True})
        pi["status"] = "requires_capture"
        pi["amount_capturable"] = pi["amount"]
        emit(ctx.store, ctx.acct, "charge.succeeded", charge)
        emit(ctx.store, ctx.acct, "payment_intent.amount_capturable_updated", pi)
        return
    _succeed(ctx, pi, charge, pi["amount"], magic.bypass_pending)


def _succeed(ctx: Ctx, pi: Obj, charge: Obj, amount: int, bypass: bool) -> None:
    charges.capture_funds(ctx, charge, amount, bypass)
    pi.update({"status": "succeeded", "amount_received": amount, "amount_capturable": 0,
               "processing": None})
    emit(ctx.store, ctx.acct, "charge.succeeded", charge)
    emit(ctx.store, ctx.acct, "payment_intent.succeeded", pi)
    disputes.open_for_test_card(ctx.store, ctx.acct, charge)


def _decline(ctx: Ctx, pi: Obj, charge: Obj, pm: Obj, magic: Any) -> None:
    message = DECLINE_MESSAGES.get(magic.decline_code, "Your card was declined.")
    charges.fail(charge, magic, message)
    # incorrect_cvc / expired_card / processing_error are their own reason: no decline_code.
    decline_code = None if magic.error_code in FIELD_ERRORS else magic.decline_code
    error = {
        "charge": charge["id"],
        "code": magic.error_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{magic.error_code.replace('_', '-')}",
        "message": message,
        "param": magic.param,
        "payment_method": pm,
        "type": "card_error",
    }
    if decline_code:
        error["decline_code"] = decline_code
    pi.update({"status": "requires_payment_method", "last_payment_error": error,
               "payment_method": None})
    emit(ctx.store, ctx.acct, "charge.failed", charge)
    emit(ctx.store, ctx.acct, "payment_intent.payment_failed", pi)
    extra: dict[str, Any] = {"charge": charge["id"], "payment_intent": pi, "payment_method": pm}
    if decline_code:
        extra["decline_code"] = decline_code
    raise CardError(message, code=magic.error_code, param=magic.param, extra=extra)


def _confirm_params(ctx: Ctx, p: Params, pi: Obj) -> str | None:
    pm_id = p.str("payment_method")
    capture_method = p.str("capture_method", choices=CAPTURE_METHODS)
    receipt_email = p.str("receipt_email")
    return_url = p.str("return_url")
    for name in CONFIRM_EXTRAS:
        p.raw(name)
    p.done()
    if pm_id:
        payment_methods.check_exists(ctx, pm_id, "payment_method")
    check_confirmable(ctx, pi, pm_id or pi["payment_method"], return_url)
    if pm_id:
        pi["payment_method"] = payment_methods.resolve(ctx, pm_id, "payment_method")["id"]
    if capture_method:
        pi["capture_method"] = capture_method
    if receipt_email:
        pi["receipt_email"] = receipt_email
    return return_url


@route("POST", "/v1/payment_intents/{pi_id}/confirm")
def confirm(ctx: Ctx, p: Params, pi_id: str) -> Obj:
    pi = ctx.store.get(ctx.acct, "payment_intent", pi_id)
    if pi["status"] in ("succeeded", "canceled", "processing", "requires_capture"):
        p.raw("payment_method")
        confirm_intent(ctx, pi)  # raises the state error without touching anything
    return_url = _confirm_params(ctx, p, pi)
    confirm_intent(ctx, pi, return_url)
    return pi


@route("POST", "/v1/payment_intents/{pi_id}/capture")
def capture(ctx: Ctx, p: Params, pi_id: str) -> Obj:
    pi = ctx.store.get(ctx.acct, "payment_intent", pi_id)
    amount = p.amount("amount_to_capture")
    fee = p.int("application_fee_amount", minimum=0)
    metadata = p.metadata()
    for name in ("statement_descriptor", "statement_descriptor_suffix", "final_capture",
                 "transfer_data"):
        p.raw(name)
    p.done()
    if pi["status"] != "requires_capture":
        raise unexpected_state(
            "This PaymentIntent could not be captured because it has a status of "
            f"{pi['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture."
        )
    if amount is None:
        amount = pi["amount_capturable"]
    if amount > pi["amount_capturable"]:
        raise InvalidRequest(
            "The amount to capture must be less than or equal to the amount capturable.",
            code="amount_too_large", param="amount_to_capture",
        )
    # https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts: a capture, like a
    # charge, must be at least the currency's minimum.
    if amount < currencies.minimum_charge(pi["currency"]):
        raise InvalidRequest(
            f"Amount must be at least {currencies.format_minimum(pi['currency'])}",
            code="amount_too_small", param="amount_to_capture",
        )
    if fee is not None:
        check_fee(ctx, fee, amount, (pi["transfer_data"] or {}).get("destination"))
        pi["application_fee_amount"] = fee
    if metadata is not None:
        pi["metadata"] = merge_metadata(pi["metadata"], metadata)
    charge = ctx.acct.objects[pi["latest_charge"]]
    charge["application_fee_amount"] = pi["application_fee_amount"]
    bypass = bool(ctx.store.internal(ctx.acct, charge["id"]).get("bypass"))
    charges.capture_funds(ctx, charge, amount, bypass, authorized=pi["amount"])
    charge["amount_refunded"] = pi["amount"] - amount  # the uncaptured rest is released
    pi.update({"status": "succeeded", "amount_received": amount, "amount_capturable": 0})
    emit(ctx.store, ctx.acct, "charge.captured", charge)
    emit(ctx.store, ctx.acct, "payment_intent.succeeded", pi)
    disputes.open_for_test_card(ctx.store, ctx.acct, charge)
    return pi


@route("POST", "/v1/payment_intents/{pi_id}/cancel")
def cancel(ctx: Ctx, p: Params, pi_id: str) -> Obj:
    pi = ctx.store.get(ctx.acct, "payment_intent", pi_id)
    reason = p.str("cancellation_reason", choices=CANCEL_REASONS)
    p.done()
    if pi["status"] not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. "
            "Only a PaymentIntent with one of the following statuses may be canceled: "
            + ", ".join(CANCELABLE) + "."
        )
    was_authorized = pi["status"] == "requires_capture"
    pi.update({"status": "canceled", "canceled_at": ctx.store.now(),
               "cancellation_reason": reason, "amount_capturable": 0})
    if was_authorized:
        charge = ctx.acct.objects[pi["latest_charge"]]
        previous = changed(charge, {"amount_refunded": charge["amount"], "refunded": True})
        emit(ctx.store, ctx.acct, "charge.refunded", charge, previous)
    emit(ctx.store, ctx.acct, "payment_intent.canceled", pi)
    return pi
