"""Shippers (customers, each with a Stripe customer) and carriers (paid through Connect)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.messages import CREATE_CUSTOMER
from models import Carrier, Shipper
from models.db import transaction
from payments import parties
from web.auth import ENQUEUE, READ, requires
from web.bodies import json_body, path_id
from web.context import state
from web.errors import Conflict, ResourceNotFound
from web.idempotency import Accepted, run_post
from web.representations import carrier_json, customer_json
from web.validation import CURRENCY, EMAIL, NAME, Str, obj

bp = Blueprint("parties", __name__)

CUSTOMER_CREATE = obj(
    required=("name", "email", "external_id"),
    name=NAME,
    email=EMAIL,
    external_id=Str(max_length=200, description="Your own id for this shipper; unique."),
)
CARRIER_CREATE = obj(
    required=("name", "email", "country", "default_currency"),
    name=NAME,
    email=EMAIL,
    country=Str(
        min_length=2,
        max_length=2,
        pattern="^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 country of the carrier's business.",
        error_code="invalid_country",
        hint="a two-letter ISO country code such as US",
    ),
    default_currency=CURRENCY,
    payout_method=Str(enum=("standard", "instant"), description="Default payout speed."),
)


@bp.post("/api/customers")
@requires(ENQUEUE)
def create_customer_view() -> Response:
    fields, payload = json_body(CUSTOMER_CREATE)

    def work(session: Session) -> Accepted:
        taken = session.scalar(
            select(Shipper.id).where(Shipper.external_id == fields["external_id"])
        )
        if taken is not None:
            raise Conflict(
                f"a customer with external_id {fields['external_id']!r} already exists"
                f" (id {taken})",
                field="external_id",
                code="duplicate_external_id",
            )
        shipper = parties.create_shipper(session, **fields)
        return Accepted(202, customer_json(shipper), [(CREATE_CUSTOMER, shipper.id)])

    return run_post(payload, work)


@bp.get("/api/customers/<int:customer_id>")
@requires(READ)
def get_customer(customer_id: int) -> Response:
    with transaction(state().sessions) as session:
        shipper = session.get(Shipper, path_id(customer_id, "customer"))
        if shipper is None:
            raise ResourceNotFound(f"no customer {customer_id}")
        return jsonify(customer_json(shipper))


@bp.post("/api/carriers")
@requires(ENQUEUE)
def create_carrier_view() -> Response:
    fields, payload = json_body(CARRIER_CREATE)

    def work(session: Session) -> Accepted:
        carrier = parties.create_carrier(session, **fields)
        return Accepted(201, carrier_json(carrier))

    return run_post(payload, work)


@bp.get("/api/carriers/<int:carrier_id>")
@requires(READ)
def get_carrier(carrier_id: int) -> Response:
    with transaction(state().sessions) as session:
        carrier = session.get(Carrier, path_id(carrier_id, "carrier"))
        if carrier is None:
            raise ResourceNotFound(f"no carrier {carrier_id}")
        return jsonify(carrier_json(carrier))
