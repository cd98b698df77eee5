"""Saved payment methods of a customer: list, attach a tokenized method, detach.

Synchronous Stripe calls (the caller needs the answer now). Only PaymentMethod ids (pm_…) are
accepted; the card details shown are Stripe's brand, last four and expiry.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Shipper
from models.db import transaction
from web.auth import ENQUEUE, READ, requires
from web.bodies import json_body, path_id
from web.context import state
from web.errors import Conflict, ResourceNotFound, ValidationFailed
from web.idempotency import Accepted, run_post
from web.stripe_calls import call_stripe, method_json
from web.validation import PAYMENT_METHOD, identifier, obj

bp = Blueprint("methods", __name__)

METHOD_ATTACH = obj(
    required=("customer_id", "payment_method"),
    customer_id=identifier("The shipper whose Stripe customer gets the method."),
    payment_method=PAYMENT_METHOD,
)


def _stripe_customer(shipper: Shipper) -> str:
    if shipper.stripe_customer_id is None:
        raise Conflict(
            f"customer {shipper.id} has no Stripe customer yet (being created); retry shortly",
            code="customer_not_ready",
            headers={"Retry-After": "1"},
        )
    return shipper.stripe_customer_id


@bp.get("/api/payments/methods/customer/<int:customer_id>")
@requires(READ)
def list_methods(customer_id: int) -> Response:
    with transaction(state().sessions) as session:
        shipper = session.get(Shipper, path_id(customer_id, "customer"))
        if shipper is None:
            raise ResourceNotFound(f"no customer {customer_id}")
        stripe_customer = _stripe_customer(shipper)
    page = call_stripe(lambda: state().gateway().list_payment_methods(stripe_customer))
    data = [method_json(pm) for pm in page.data]
    return jsonify({"object": "list", "customer_id": customer_id, "data": data})


@bp.post("/api/payments/methods")
@requires(ENQUEUE)
def attach_method() -> Response:
    fields, payload = json_body(METHOD_ATTACH)

    def work(session: Session) -> Accepted:
        shipper = session.get(Shipper, fields["customer_id"])
        if shipper is None:
            raise ValidationFailed(
                f"no customer {fields['customer_id']}", field="customer_id", code="unknown_customer"
            )
        customer = _stripe_customer(shipper)
        pm = call_stripe(
            lambda: (
                state()
                .gateway()
                .attach_payment_method(shipper.id, fields["payment_method"], customer=customer)
            ),
            field="payment_method",
        )
        return Accepted(201, {**method_json(pm), "customer_id": shipper.id})

    return run_post(payload, work)


@bp.delete("/api/payments/methods/<string:payment_method>")
@requires(ENQUEUE)
def detach_method(payment_method: str) -> Response:
    PAYMENT_METHOD.check(payment_method, "payment_method")
    gateway = state().gateway()
    pm = call_stripe(lambda: gateway.retrieve_payment_method(payment_method))
    with transaction(state().sessions) as session:
        owner = (
            session.scalar(select(Shipper.id).where(Shipper.stripe_customer_id == pm.customer))
            if pm.customer
            else None
        )
    if owner is None:
        # Not attached to one of our customers: as far as this API goes, it does not exist.
        raise ResourceNotFound(f"no saved payment method {payment_method}")
    detached = call_stripe(lambda: gateway.detach_payment_method(payment_method))
    return jsonify({**method_json(detached), "customer_id": owner, "detached": True})
