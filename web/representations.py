"""Rows as JSON for the API: amounts as integers in minor units, times in ISO 8601 UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Carrier, Payment, PayoutBatch, Refund, Shipper
from payments.settlement import rate_text, settles_in

JSON = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def customer_json(shipper: Shipper) -> JSON:
    return {
        "id": shipper.id,
        "object": "customer",
        "name": shipper.name,
        "email": shipper.email,
        "external_id": shipper.external_id,
        "stripe_customer": shipper.stripe_customer_id,
        "status": "active" if shipper.stripe_customer_id else "pending",
        "created_at": _time(shipper.created_at),
        "links": {"self": f"/api/customers/{shipper.id}"},
    }


def account_status(carrier: Carrier) -> str:
    if carrier.stripe_account_id is None:
        return "not_requested" if carrier.recovery_point == "not_requested" else "pending"
    return "enabled" if carrier.payouts_enabled else "onboarding"


def carrier_json(carrier: Carrier) -> JSON:
    return {
        "id": carrier.id,
        "object": "carrier",
        "name": carrier.name,
        "email": carrier.email,
        "country": carrier.country,
        "default_currency": carrier.default_currency,
        "payout_method": carrier.payout_method,
        "stripe_account": carrier.stripe_account_id,
        "account_status": account_status(carrier),
        "payouts_enabled": carrier.payouts_enabled,
        "created_at": _time(carrier.created_at),
        "links": {
            "self": f"/api/carriers/{carrier.id}",
            "account": f"/api/payouts/connect/accounts/{carrier.id}",
        },
    }


def needs_attention_json(row: Payment | Refund | PayoutBatch) -> JSON | None:
    """Why a person must look at this row (payments/attention.py), or None."""
    if row.attention_at is None:
        return None
    return {"reason": row.attention_reason, "since": _time(row.attention_at)}


def settlement_json(payment: Payment, settlement_currencies: tuple[str, ...]) -> JSON:
    """What Stripe moves (or, before it has, will move) for the payment: the settlement
    currency, amount and fee, the rate when converted, and the carrier's share in it."""
    currency = payment.settlement_currency or settles_in(payment.currency, settlement_currencies)
    return {
        "currency": currency,
        "converted": currency != payment.currency,
        "amount": payment.settlement_amount,
        "fee": payment.settlement_fee,
        "exchange_rate": rate_text(payment.exchange_rate),
        "carrier_amount": payment.carrier_settlement_amount,
    }


def payment_json(
    payment: Payment, load_reference: str | None, settlement_currencies: tuple[str, ...] = ()
) -> JSON:
    body = {
        "id": payment.id,
        "object": "payment",
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "carrier_amount": payment.carrier_amount,
        "amount_refunded": payment.amount_refunded,
        "customer_id": payment.shipper_id,
        "carrier_id": payment.carrier_id,
        "load_id": load_reference,
        "description": payment.description,
        "payment_method": payment.payment_method,
        "stripe_payment_intent": payment.stripe_payment_intent_id,
        "stripe_charge": payment.stripe_charge_id,
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "needs_attention": needs_attention_json(payment),
        "request_id": payment.request_id,
        "created_at": _time(payment.created_at),
        "updated_at": _time(payment.updated_at),
        "links": {
            "self": f"/api/payments/{payment.id}",
            "confirm": f"/api/payments/intent/{payment.id}/confirm",
            "refund": f"/api/payments/{payment.id}/refund",
        },
    }
    if settlement_currencies:
        body["settlement"] = settlement_json(payment, settlement_currencies)
    return body


def refund_json(refund: Refund) -> JSON:
    return {
        "id": refund.id,
        "object": "refund",
        "status": refund.status,
        "payment_id": refund.payment_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "reason": refund.reason,
        "stripe_refund": refund.stripe_refund_id,
        # What left Stripe's balance: settlement currency, at the refund day's rate.
        "settlement": {
            "currency": refund.settlement_currency,
            "amount": refund.settlement_amount,
            "exchange_rate": rate_text(refund.exchange_rate),
        },
        "failure_reason": refund.failure_reason,
        "needs_attention": needs_attention_json(refund),
        "request_id": refund.request_id,
        "created_at": _time(refund.created_at),
        "updated_at": _time(refund.updated_at),
        "links": {
            "self": f"/api/refunds/{refund.id}",
            "payment": f"/api/payments/{refund.payment_id}",
        },
    }


def batch_json(batch: PayoutBatch) -> JSON:
    return {
        "id": batch.id,
        "object": "payout_batch",
        "status": batch.status,
        "flow": batch.flow,
        "carrier_id": batch.carrier_id,
        "amount": batch.amount,
        "currency": batch.currency,
        "method": batch.method,
        "period": batch.period.isoformat(),
        "stripe_transfer": batch.stripe_transfer_id,
        "stripe_payout": batch.stripe_payout_id,
        "failure_code": batch.failure_code,
        "failure_message": batch.failure_message,
        "needs_attention": needs_attention_json(batch),
        "created_at": _time(batch.created_at),
        "updated_at": _time(batch.updated_at),
        "links": {"self": f"/api/payouts/batches/{batch.id}"},
    }
