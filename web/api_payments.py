"""Payments: a PaymentIntent per load, enqueued; confirmation; status as Stripe words it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, g, jsonify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jobs.messages import ADVANCE_PAYMENT
from models import Carrier, Load, Payment, Shipper
from models.db import transaction
from models.money import Money, format_minor, minimum_charge
from models.payments import PaymentStatus
from payments import charges
from payments import errors as payment_errors
from payments.errors import InvalidOperation
from payments.settlement import check_carrier_payable
from web.auth import ENQUEUE, READ, current_key, requires
from web.bodies import json_body, path_id
from web.context import state
from web.errors import Conflict, LoadAlreadyCharged, ResourceNotFound, ValidationFailed
from web.idempotency import Accepted, run_post
from web.representations import payment_json
from web.stripe_reads import ClientSecrets, ReadBudget
from web.validation import (
    CURRENCY,
    MAX_AMOUNT,
    PAYMENT_METHOD,
    Bool,
    Int,
    Str,
    amount,
    identifier,
    obj,
)

bp = Blueprint("payments", __name__)

PAYMENT_CREATE = obj(
    required=("customer_id", "load_id", "amount", "currency", "carrier_id", "carrier_amount"),
    customer_id=identifier("The paying shipper (POST /api/customers)."),
    load_id=Str(max_length=200, description="Your reference of the load being paid for."),
    amount=amount(),
    currency=CURRENCY,
    carrier_id=identifier("The carrier hauling the load (POST /api/carriers)."),
    carrier_amount=Int(
        minimum=0,
        maximum=MAX_AMOUNT,
        description="The carrier's share in minor units of currency; at most amount (the rest"
        " is ours). Paid in the settlement currency (see settlement in the answer): converted"
        " at the charge's own exchange rate, rounded down.",
    ),
    payment_method=replace(PAYMENT_METHOD, nullable=True),
    confirm=Bool(description="Confirm at once when a payment_method is given (default true)."),
    description=Str(max_length=1000, nullable=True, description="Shown on the Stripe payment."),
    additional_charge_reason=Str(
        max_length=200,
        nullable=True,
        description="Why this load is charged again although it has a live payment; without"
        " it a second payment for a load is refused (409 load_already_charged).",
    ),
)
PAYMENT_CONFIRM = obj(required=("payment_method",), payment_method=PAYMENT_METHOD)
# Until Stripe has answered there is no secret to give; after a final status none is needed.
_SECRET_STATUSES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)


def _load_reference(session: Session, payment: Payment) -> str | None:
    load = session.get(Load, payment.load_id)
    return load.external_id if load else None


@bp.post("/api/payments/intent")
@requires(ENQUEUE)
def create_intent() -> Response:
    fields, payload = json_body(PAYMENT_CREATE)
    minimum = minimum_charge(fields["currency"])
    if fields["amount"] < minimum.amount:
        shown = format_minor(minimum.amount, minimum.currency)
        raise ValidationFailed(
            f"amount must be at least {minimum.amount} ({shown}), Stripe's minimum charge"
            f" in {minimum.currency}",
            field="amount",
            code="amount_too_small",
        )
    if fields["carrier_amount"] > fields["amount"]:
        raise ValidationFailed(
            "carrier_amount must not be above amount", field="carrier_amount", code="out_of_range"
        )

    def work(session: Session) -> Accepted:
        # Held in locals: the session's identity map is weak, and create_payment reads both
        # again (a hit only while someone holds them).
        shipper = session.get(Shipper, fields["customer_id"])
        carrier = session.get(Carrier, fields["carrier_id"])
        if shipper is None:
            raise ValidationFailed(
                f"no customer {fields['customer_id']}", field="customer_id", code="unknown_customer"
            )
        if carrier is None:
            raise ValidationFailed(
                f"no carrier {fields['carrier_id']}", field="carrier_id", code="unknown_carrier"
            )
        settings = state().settings
        try:
            check_carrier_payable(
                fields["currency"],
                settings.stripe_settlement_currencies,
                settings.payout_thresholds,
                carrier.default_currency,
            )
        except InvalidOperation as refused:
            raise ValidationFailed(
                str(refused), field="currency", code="currency_not_payable"
            ) from None
        try:
            payment = charges.create_payment(
                session,
                shipper_id=fields["customer_id"],
                carrier_id=fields["carrier_id"],
                load_reference=fields["load_id"],
                amount=Money(fields["amount"], fields["currency"]),
                carrier_amount=fields["carrier_amount"],
                payment_method=fields.get("payment_method"),
                confirm=fields.get("confirm", True),
                description=fields.get("description"),
                request_id=g.request_id,
                additional_charge_reason=fields.get("additional_charge_reason"),
            )
        except payment_errors.LoadAlreadyCharged as charged:
            raise LoadAlreadyCharged(str(charged), payment_id=charged.payment_id) from None
        except InvalidOperation as refused:
            raise Conflict(str(refused), field="load_id", code="load_conflict") from None
        body = payment_json(payment, fields["load_id"], settings.stripe_settlement_currencies)
        return Accepted(202, body, [(ADVANCE_PAYMENT, payment.id)])

    try:
        return run_post(payload, work)
    except IntegrityError:
        # A request for the same load committed first (the loads or one-live-payment index).
        live = _live_payment(fields["load_id"])
        if live is None or fields.get("additional_charge_reason"):
            raise
        raise LoadAlreadyCharged(
            f"load {fields['load_id']} already has payment {live}", payment_id=live
        ) from None


def _live_payment(load_reference: str) -> int | None:
    with transaction(state().sessions) as session:
        load_id = session.scalar(select(Load.id).where(Load.external_id == load_reference))
        return charges.live_payment_of_load(session, load_id) if load_id is not None else None


@bp.post("/api/payments/intent/<int:payment_id>/confirm")
@requires(ENQUEUE)
def confirm_intent(payment_id: int) -> Response:
    path_id(payment_id, "payment")
    fields, payload = json_body(PAYMENT_CONFIRM)

    def work(session: Session) -> Accepted:
        payment = session.get(Payment, payment_id, with_for_update=True)
        if payment is None:
            raise ResourceNotFound(f"no payment {payment_id}")
        if payment.status == PaymentStatus.PROCESSING:
            raise Conflict(
                f"payment {payment_id} is processing; wait for its outcome",
                code="payment_not_confirmable",
            )
        try:
            payment = charges.request_confirmation(session, payment_id, fields["payment_method"])
        except InvalidOperation as refused:
            raise Conflict(str(refused), code="payment_not_confirmable") from None
        body = payment_json(
            payment,
            _load_reference(session, payment),
            state().settings.stripe_settlement_currencies,
        )
        return Accepted(202, body, [(ADVANCE_PAYMENT, payment.id)])

    return run_post(payload, work)


@bp.get("/api/payments/<int:payment_id>")
@requires(READ)
def get_payment(payment_id: int) -> Response:
    with transaction(state().sessions) as session:
        payment = session.get(Payment, path_id(payment_id, "payment"))
        if payment is None:
            raise ResourceNotFound(f"no payment {payment_id}")
        body: dict[str, Any] = payment_json(
            payment,
            _load_reference(session, payment),
            state().settings.stripe_settlement_currencies,
        )
    if current_key().role == "backend":
        body["client_secret"] = _client_secret(payment)
    return jsonify(body)


def _client_secret(payment: Payment) -> str | None:
    """The PaymentIntent's client secret while the customer may still act on it, read on the
    web's own Stripe budget (web.stripe_reads); never stored, never logged, None without it."""
    if payment.stripe_payment_intent_id is None or payment.status not in _SECRET_STATUSES:
        return None
    app_state = state()
    secrets = app_state.extras.get("client_secrets")
    if secrets is None:
        settings = app_state.settings
        budget = ReadBudget(
            app_state.redis,
            rate_per_s=settings.stripe_read_budget_per_s,
            stripe_limit_per_s=settings.stripe_rate_limit_per_s,
        )
        secrets = app_state.extras.setdefault(
            "client_secrets", ClientSecrets(app_state.gateway().with_guard(budget))
        )
    return secrets.get(payment.stripe_payment_intent_id)
