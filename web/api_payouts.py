"""Carriers' money: Connect accounts and onboarding, transfers, payouts, payout batches."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, g, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.messages import ADVANCE_BATCH, CREATE_CONNECTED_ACCOUNT
from models import Carrier, PayoutBatch
from models.db import transaction
from models.money import Money
from models.payments import PAYOUT_BATCH_STATUSES, PAYOUT_FLOWS
from payments import parties, payouts
from payments.errors import GatewayError, InvalidOperation
from payments.gateway.records_parties import Account, AccountRequirements
from web.auth import ENQUEUE, READ, requires
from web.bodies import json_body, path_id, query_args
from web.context import state
from web.errors import Conflict, ResourceNotFound, ValidationFailed
from web.idempotency import Accepted, run_post
from web.representations import account_status, batch_json
from web.stripe_calls import call_stripe
from web.validation import CURRENCY, Int, Str, amount, identifier, obj

bp = Blueprint("payouts", __name__)

CARRIER = identifier("The carrier (POST /api/carriers).")
ACCOUNT_CREATE = obj(required=("carrier_id",), carrier_id=CARRIER)
URL = Str(
    max_length=2000,
    pattern=r"^https?://[^\s\u0000-\u001f\u007f]+$",
    error_code="invalid_url",
    hint="an http(s) URL",
)
LINK_CREATE = obj(
    return_url=replace(URL, description="Where Stripe sends the carrier when onboarding is done."),
    refresh_url=replace(URL, description="Where Stripe sends the carrier if the link expired."),
)
TRANSFER_CREATE = obj(
    required=("carrier_id", "amount", "currency"),
    carrier_id=CARRIER,
    amount=amount("Minor units to move to the carrier's connected account (at most owed)."),
    currency=CURRENCY,
)
PAYOUT_CREATE = obj(
    required=("carrier_id", "amount", "currency", "method"),
    carrier_id=CARRIER,
    amount=amount("Minor units to pay out from the carrier's connected balance."),
    currency=CURRENCY,
    method=Str(enum=("standard", "instant"), description="standard (days) or instant."),
)
BATCH_QUERY = obj(
    carrier_id=CARRIER,
    status=Str(enum=PAYOUT_BATCH_STATUSES),
    flow=Str(enum=PAYOUT_FLOWS),
    limit=Int(minimum=1, maximum=100, description="Page size (default 25)."),
    starting_after=identifier("Cursor: the last id of the previous page."),
)


def account_json(carrier: Carrier, requirements: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": carrier.id,
        "object": "connected_account",
        "carrier_id": carrier.id,
        "stripe_account": carrier.stripe_account_id,
        "status": account_status(carrier),
        "payouts_enabled": carrier.payouts_enabled,
        "charges_enabled": carrier.charges_enabled,
        "requirements": requirements,
        "links": {
            "self": f"/api/payouts/connect/accounts/{carrier.id}",
            "onboarding_link": f"/api/payouts/connect/accounts/{carrier.id}/onboarding-link",
        },
    }


def _known_carrier(session: Session, carrier_id: int) -> Carrier:
    carrier = session.get(Carrier, carrier_id)
    if carrier is None:
        raise ValidationFailed(
            f"no carrier {carrier_id}", field="carrier_id", code="unknown_carrier"
        )
    return carrier


@bp.post("/api/payouts/connect/accounts")
@requires(ENQUEUE)
def create_account() -> Response:
    fields, payload = json_body(ACCOUNT_CREATE)

    def work(session: Session) -> Accepted:
        _known_carrier(session, fields["carrier_id"])
        carrier = parties.request_connected_account(session, fields["carrier_id"])
        jobs = [] if carrier.stripe_account_id else [(CREATE_CONNECTED_ACCOUNT, carrier.id)]
        return Accepted(202, account_json(carrier, None), jobs)

    return run_post(payload, work)


@bp.get("/api/payouts/connect/accounts/<int:carrier_id>")
@requires(READ)
def get_account(carrier_id: int) -> Response:
    with transaction(state().sessions) as session:
        carrier = session.get(Carrier, path_id(carrier_id, "carrier"))
        if carrier is None:
            raise ResourceNotFound(f"no carrier {carrier_id}")
        stripe_account = carrier.stripe_account_id
    requirements = None
    account: Account | None = None
    if stripe_account is not None:
        # Stripe is the truth about onboarding: read it through, and keep our flags in step.
        try:
            account = state().gateway().retrieve_account(stripe_account)
        except GatewayError:
            account = None  # Stripe unreachable: answer from our own record
    with transaction(state().sessions) as session:
        carrier = session.get(Carrier, carrier_id, with_for_update=account is not None)
        assert carrier is not None
        if account is not None:
            parties.apply_account(carrier, account)
            known = account.requirements or AccountRequirements(None, None, None, None)
            requirements = known.as_json()
        return jsonify(account_json(carrier, requirements))


@bp.post("/api/payouts/connect/accounts/<int:carrier_id>/onboarding-link")
@requires(ENQUEUE)
def onboarding_link(carrier_id: int) -> Response:
    path_id(carrier_id, "carrier")
    fields, payload = json_body(LINK_CREATE)

    def work(session: Session) -> Accepted:
        carrier = session.get(Carrier, carrier_id)
        if carrier is None:
            raise ResourceNotFound(f"no carrier {carrier_id}")
        if carrier.stripe_account_id is None:
            raise Conflict(
                f"carrier {carrier_id} has no connected account yet; POST"
                " /api/payouts/connect/accounts first, then retry",
                code="account_not_ready",
                headers={"Retry-After": "1"},
            )
        account = carrier.stripe_account_id
        default = state().onboarding_return_url
        link = call_stripe(
            lambda: (
                state()
                .gateway()
                .create_account_link(
                    account,
                    refresh_url=fields.get("refresh_url", default),
                    return_url=fields.get("return_url", default),
                    key=f"account_link:{carrier_id}:{g.request_id}",
                )
            )
        )
        body = {
            "object": "account_link",
            "carrier_id": carrier_id,
            "url": link.url,
            "expires_at": link.expires_at,
        }
        return Accepted(201, body)

    return run_post(payload, work)


def _payable(session: Session, carrier_id: int) -> Carrier:
    carrier = _known_carrier(session, carrier_id)
    if not carrier.stripe_account_id or not carrier.payouts_enabled:
        raise Conflict(
            f"carrier {carrier_id} cannot be paid yet: onboarding of their Stripe account is"
            " not complete (payouts not enabled)",
            field="carrier_id",
            code="payouts_not_enabled",
        )
    return carrier


@bp.post("/api/payouts/connect/transfers")
@requires(ENQUEUE)
def create_transfer() -> Response:
    fields, payload = json_body(TRANSFER_CREATE)

    def work(session: Session) -> Accepted:
        _payable(session, fields["carrier_id"])
        money = Money(fields["amount"], fields["currency"])
        try:
            batch = payouts.request_transfer(session, fields["carrier_id"], money)
        except InvalidOperation as refused:
            raise ValidationFailed(str(refused), field="amount", code="exceeds_owed") from None
        return Accepted(202, batch_json(batch), [(ADVANCE_BATCH, batch.id)])

    return run_post(payload, work)


@bp.post("/api/payouts/connect/payouts")
@requires(ENQUEUE)
def create_payout() -> Response:
    fields, payload = json_body(PAYOUT_CREATE)

    def work(session: Session) -> Accepted:
        _payable(session, fields["carrier_id"])
        money = Money(fields["amount"], fields["currency"])
        try:
            batch = payouts.request_payout(session, fields["carrier_id"], money, fields["method"])
        except InvalidOperation as refused:
            raise ValidationFailed(str(refused), field="amount", code="exceeds_balance") from None
        return Accepted(202, batch_json(batch), [(ADVANCE_BATCH, batch.id)])

    return run_post(payload, work)


@bp.get("/api/payouts/batches")
@requires(READ)
def list_batches() -> Response:
    args = query_args(BATCH_QUERY)
    limit = args.get("limit", 25)
    query = select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(limit + 1)
    for name in ("carrier_id", "status", "flow"):
        if name in args:
            query = query.where(getattr(PayoutBatch, name) == args[name])
    if "starting_after" in args:
        query = query.where(PayoutBatch.id < args["starting_after"])
    with transaction(state().sessions) as session:
        rows = session.scalars(query).all()
        data = [batch_json(batch) for batch in rows[:limit]]
    has_more = len(rows) > limit
    return jsonify(
        {
            "object": "list",
            "data": data,
            "has_more": has_more,
            "next_starting_after": data[-1]["id"] if has_more else None,
        }
    )


@bp.get("/api/payouts/batches/<int:batch_id>")
@requires(READ)
def get_batch(batch_id: int) -> Response:
    with transaction(state().sessions) as session:
        batch = session.get(PayoutBatch, path_id(batch_id, "payout batch"))
        if batch is None:
            raise ResourceNotFound(f"no payout batch {batch_id}")
        return jsonify(batch_json(batch))
