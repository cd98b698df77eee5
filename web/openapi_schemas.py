"""Response schemas of the OpenAPI document (the request schemas are the validators)."""

from __future__ import annotations

from typing import Any

from models.payments import PAYMENT_STATUSES, PAYOUT_BATCH_STATUSES, REFUND_STATUSES
from models.reconciliation import RUN_STATUSES

JSON = dict[str, Any]

_S = {"type": "string"}
_NS = {"type": ["string", "null"]}
_I = {"type": "integer"}
_NI = {"type": ["integer", "null"]}
_B = {"type": "boolean"}


_ATTENTION = {
    "type": ["object", "null"],
    "description": "Set when a person must look at this row (retry or cancel it with "
    "`midway attention`); null otherwise.",
    "properties": {"reason": _S, "since": _S},
}


def _object(required: tuple[str, ...], **props: JSON) -> JSON:
    return {"type": "object", "required": list(required), "properties": props}


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: str) -> JSON:
    return _object(
        ("object", "data"), object={"const": "list"}, data={"type": "array", "items": _ref(item)}
    )


_RUN = _object(
    ("id", "object", "date", "account", "status", "counts", "net_difference", "totals", "links"),
    id=_I,
    object={"const": "reconciliation_run"},
    date=_S,
    account=_S,
    timezone=_S,
    status={"enum": list(RUN_STATUSES)},
    counts={"type": "object"},
    net_difference={"type": "object", "additionalProperties": _I},
    totals={"type": "array", "items": {"type": "object"}},
    started_at=_NS,
    finished_at=_NS,
    superseded_by=_NI,
    error=_NS,
    links={"type": "object"},
)

SCHEMAS: JSON = {
    "ReconciliationRun": _RUN,
    "ReconciliationRunList": _object(
        ("object", "data", "has_more"),
        object={"const": "list"},
        data={"type": "array", "items": _ref("ReconciliationRun")},
        has_more=_B,
    ),
    "ReconciliationReport": _object(
        ("object", "run_id", "date", "account", "status", "counts", "totals", "discrepancies"),
        object={"const": "reconciliation_report"},
        run_id=_I,
        date=_S,
        account=_S,
        status=_S,
        counts={"type": "object"},
        totals={"type": "array", "items": {"type": "object"}},
        discrepancies={"type": "array", "items": {"type": "object"}},
        links={"type": "object"},
    ),
    "ReconciliationRequest": _object(
        ("object", "id", "date", "account", "status", "links"),
        object={"const": "reconciliation_request"},
        id=_I,
        date=_S,
        account=_S,
        timezone=_S,
        status={"const": "queued"},
        links={"type": "object"},
    ),
    "Error": _object(
        ("error",),
        error=_object(
            ("code", "message", "field"),
            code=_S,
            message=_S,
            field=_NS,
            request_id=_S,
        ),
    ),
    "Customer": _object(
        ("id", "name", "email", "external_id", "stripe_customer", "status", "links"),
        id=_I,
        name=_S,
        email=_S,
        external_id=_S,
        stripe_customer=_NS,
        status={"enum": ["pending", "active"]},
        created_at=_NS,
        links={"type": "object"},
    ),
    "Carrier": _object(
        ("id", "name", "email", "country", "default_currency", "account_status", "links"),
        id=_I,
        name=_S,
        email=_S,
        country=_S,
        default_currency=_S,
        payout_method=_S,
        stripe_account=_NS,
        account_status=_S,
        payouts_enabled=_B,
        created_at=_NS,
        links={"type": "object"},
    ),
    "Payment": _object(
        (
            "id",
            "status",
            "amount",
            "currency",
            "amount_refunded",
            "stripe_payment_intent",
            "failure_code",
            "failure_message",
            "links",
        ),
        id=_I,
        status={"enum": list(PAYMENT_STATUSES)},
        amount=_I,
        currency=_S,
        carrier_amount=_I,
        amount_refunded=_I,
        customer_id=_I,
        carrier_id=_I,
        load_id=_NS,
        description=_NS,
        payment_method=_NS,
        stripe_payment_intent=_NS,
        stripe_charge=_NS,
        client_secret={**_NS, "description": "Backend role only; for Stripe.js confirmation."},
        settlement=_object(
            ("currency", "converted"),
            currency={**_S, "description": "What Stripe settles the payment in (the"
                      " platform's bank currency); the carrier is paid in it."},
            converted=_B,
            amount={**_NI, "description": "What Stripe moved, once it has (minor units)."},
            fee={**_NI, "description": "Stripe's fee incl. any currency conversion fee."},
            exchange_rate={**_NS, "description": "Decimal string: presentment x rate ="
                           " settlement (major units); null when not converted."},
            carrier_amount={**_NI, "description": "carrier_amount at the charge's own rate,"
                            " rounded down, as owed to the carrier."},
        ),
        failure_code=_NS,
        failure_message=_NS,
        needs_attention=_ATTENTION,
        request_id=_NS,
        created_at=_NS,
        updated_at=_NS,
        links={"type": "object"},
    ),
    "Refund": _object(
        ("id", "status", "payment_id", "amount", "currency", "links"),
        id=_I,
        status={"enum": list(REFUND_STATUSES)},
        payment_id=_I,
        amount=_I,
        currency=_S,
        reason=_NS,
        stripe_refund=_NS,
        settlement=_object(
            ("currency",), currency=_NS, amount=_NI,
            exchange_rate={**_NS, "description": "The refund's own day's rate, if converted."},
        ),
        failure_reason=_NS,
        needs_attention=_ATTENTION,
        request_id=_NS,
        created_at=_NS,
        updated_at=_NS,
        links={"type": "object"},
    ),
    "PayoutBatch": _object(
        ("id", "status", "flow", "carrier_id", "amount", "currency", "method", "links"),
        id=_I,
        status={"enum": list(PAYOUT_BATCH_STATUSES)},
        flow={"enum": ["batch", "transfer", "payout"]},
        carrier_id=_I,
        amount=_I,
        currency=_S,
        method={"enum": ["standard", "instant"]},
        period=_S,
        stripe_transfer=_NS,
        stripe_payout=_NS,
        failure_code=_NS,
        failure_message=_NS,
        needs_attention=_ATTENTION,
        created_at=_NS,
        updated_at=_NS,
        links={"type": "object"},
    ),
    "ConnectedAccount": _object(
        ("id", "carrier_id", "stripe_account", "status", "payouts_enabled", "requirements"),
        id=_I,
        object=_S,
        carrier_id=_I,
        stripe_account=_NS,
        status={"enum": ["not_requested", "pending", "onboarding", "enabled"]},
        payouts_enabled=_B,
        charges_enabled=_B,
        requirements={"type": ["object", "null"]},
        links={"type": "object"},
    ),
    "AccountLink": _object(("url", "carrier_id"), object=_S, carrier_id=_I, url=_S, expires_at=_NI),
    "PaymentMethod": _object(
        ("id", "type"),
        id=_S,
        object=_S,
        type=_NS,
        created=_NI,
        stripe_customer=_NS,
        customer_id=_I,
        detached=_B,
        card=_object(
            (), brand=_NS, last4=_NS, exp_month=_NI, exp_year=_NI, funding=_NS, country=_NS
        ),
    ),
    "PaymentMethodList": {**_list("PaymentMethod")},
    "RefundList": _list("Refund"),
    "PayoutBatchList": {
        **_list("PayoutBatch"),
        "required": ["object", "data", "has_more", "next_starting_after"],
    },
    # What the webhook endpoint accepts (https://docs.stripe.com/api/events/object).
    "StripeEvent": _object(
        ("id", "type", "created", "data"),
        id={"type": "string", "pattern": "^[A-Za-z0-9_]{1,255}$"},
        type={"type": "string", "minLength": 1, "maxLength": 100},
        created={"type": "integer", "minimum": 1_262_304_000, "maximum": 4_102_444_799},
        account={"type": ["string", "null"]},
        data=_object(
            ("object",),
            object=_object(
                ("id",),
                id={"type": "string", "pattern": "^[A-Za-z0-9_]{1,255}$"},
                metadata={"type": "object", "additionalProperties": {"type": "string"}},
            ),
        ),
    ),
    "WebhookAck": _object(("received", "id", "duplicate"), received=_B, id=_S, duplicate=_B),
    "WebhookHealth": _object(
        ("status",),
        status=_S,
        secrets_configured=_I,
        last_event_received_at=_NS,
        unprocessed_events=_I,
        out_of_band_events=_I,
    ),
    "Health": _object(("status",), status=_S),
    "Ready": _object(
        ("status", "checks"),
        status={"enum": ["ready", "unavailable"]},
        checks={"type": "object"},
        stripe_circuit_open_for_s={"type": "number"},
    ),
}
SCHEMAS["PayoutBatchList"]["properties"].update(has_more=_B, next_starting_after=_NI)
