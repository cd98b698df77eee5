"""Refunds: all or part of a succeeded payment, enqueued; status as Stripe's refund words."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.messages import ADVANCE_REFUND
from models import Payment, Refund
from models.db import transaction
from models.payments import PaymentStatus
from payments import refunds
from payments.errors import InvalidOperation
from web.auth import ENQUEUE, READ, requires
from web.bodies import json_body, path_id
from web.context import state
from web.errors import Conflict, ResourceNotFound, ValidationFailed
from web.idempotency import Accepted, run_post
from web.representations import refund_json
from web.validation import Str, amount, obj

bp = Blueprint("refunds", __name__)

REFUND_CREATE = obj(
    amount=amount("Minor units to refund; all that is still refundable when omitted."),
    reason=Str(enum=refunds.REFUND_REASONS, nullable=True, description="Stripe's refund reason."),
)


@bp.post("/api/payments/<int:payment_id>/refund")
@requires(ENQUEUE)
def create_refund(payment_id: int) -> Response:
    path_id(payment_id, "payment")
    fields, payload = json_body(REFUND_CREATE)

    def work(session: Session) -> Accepted:
        payment = session.get(Payment, payment_id, with_for_update=True)
        if payment is None:
            raise ResourceNotFound(f"no payment {payment_id}")
        if payment.status != PaymentStatus.SUCCEEDED:
            raise Conflict(
                f"payment {payment_id} is {payment.status}; only a succeeded payment can be"
                " refunded",
                code="payment_not_refundable",
            )
        try:
            refund = refunds.request_refund(
                session,
                payment_id,
                amount=fields.get("amount"),
                reason=fields.get("reason"),
                request_id=g.request_id,
            )
        except InvalidOperation as refused:
            raise ValidationFailed(
                str(refused), field="amount", code="exceeds_refundable"
            ) from None
        return Accepted(202, refund_json(refund), [(ADVANCE_REFUND, refund.id)])

    return run_post(payload, work)


@bp.get("/api/refunds/<int:refund_id>")
@requires(READ)
def get_refund(refund_id: int) -> Response:
    with transaction(state().sessions) as session:
        refund = session.get(Refund, path_id(refund_id, "refund"))
        if refund is None:
            raise ResourceNotFound(f"no refund {refund_id}")
        return jsonify(refund_json(refund))


@bp.get("/api/payments/<int:payment_id>/refunds")
@requires(READ)
def list_refunds(payment_id: int) -> Response:
    with transaction(state().sessions) as session:
        if session.get(Payment, path_id(payment_id, "payment")) is None:
            raise ResourceNotFound(f"no payment {payment_id}")
        rows = session.scalars(
            select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
        ).all()
        return jsonify({"object": "list", "data": [refund_json(r) for r in rows]})
