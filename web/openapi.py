"""GET /api/openapi.json: the OpenAPI 3.1 document of the whole API.

Request schemas come from the same objects that validate requests (web/validation.py), so the
document and the checks cannot disagree; tests/web/test_openapi.py holds the rest to the routes
and fuzzes the API from this document.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify

from web import api_methods, api_parties, api_payments, api_payouts, api_refunds, reports_api
from web.idempotency import KEY_REQUIRED_RULES
from web.openapi_schemas import SCHEMAS, _ref
from web.validation import MAX_ID, TEXT_PATTERN, Obj

bp = Blueprint("openapi", __name__)
JSON = dict[str, Any]

_ERROR_TEXT = {
    400: "Malformed JSON, header or webhook signature",
    401: "Missing or invalid API key",
    402: "Stripe declined the payment method",
    403: "The key's role may not do this",
    404: "No such resource",
    405: "Method not allowed",
    409: "Conflict with the resource's state, or Idempotency-Key reused with another request",
    413: "Body larger than the limit",
    415: "Body is not JSON",
    422: "Validation failed; `field` names the culprit",
    429: "Rate limit exceeded; see Retry-After",
    503: "A dependency (database, Stripe) is unavailable; retry",
}
AUTH_ERRORS = (401, 403, 429)


def _responses(success: dict[int, str], errors: tuple[int, ...]) -> JSON:
    out: JSON = {}
    for status, schema in success.items():
        out[str(status)] = {
            "description": "OK" if status < 300 else "Accepted",
            "content": {"application/json": {"schema": _ref(schema)}},
        }
    for status in sorted({*errors, 405}):
        out[str(status)] = {
            "description": _ERROR_TEXT[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return out


def _id_param(name: str, what: str) -> JSON:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


IDEMPOTENCY_PARAM: JSON = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Same key and body replay the first response (Idempotent-Replayed: true);"
    " the same key with another request is a 409. Required on the POSTs that move money"
    " (charge, confirm, refund, transfer, payout): without it they are a 400"
    " idempotency_key_required.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


def _post(
    summary: str,
    body: Obj,
    success: dict[int, str],
    errors: tuple[int, ...],
    params: list[JSON] | None = None,
    *,
    body_required: bool = True,
) -> JSON:
    return {
        "summary": summary,
        "security": [{"apiKey": []}],
        "parameters": [*(params or []), IDEMPOTENCY_PARAM],
        "requestBody": {
            "required": body_required,
            "content": {"application/json": {"schema": body.json_schema()}},
        },
        "responses": _responses(success, (400, 409, 413, 415, 422, *AUTH_ERRORS, *errors)),
    }


def _get(summary: str, success: str, errors: tuple[int, ...], params: list[JSON]) -> JSON:
    return {
        "summary": summary,
        "security": [{"apiKey": []}],
        "parameters": params,
        "responses": _responses({200: success}, (*AUTH_ERRORS, *errors)),
    }


def _query_params(schema: Obj) -> list[JSON]:
    return [
        {"name": name, "in": "query", "required": False, "schema": spec.json_schema()}
        for name, spec in schema.fields.items()
    ]


def build_document() -> JSON:
    customer_id = _id_param("customer_id", "customer")
    carrier_id = _id_param("carrier_id", "carrier")
    payment_id = _id_param("payment_id", "payment")
    paths: JSON = {
        "/api/customers": {
            "post": _post(
                "Create a shipper; its Stripe customer is created in the background",
                api_parties.CUSTOMER_CREATE,
                {202: "Customer"},
                (409,),
            )
        },
        "/api/customers/{customer_id}": {
            "get": _get("A shipper", "Customer", (404,), [customer_id])
        },
        "/api/carriers": {
            "post": _post("Create a carrier", api_parties.CARRIER_CREATE, {201: "Carrier"}, ())
        },
        "/api/carriers/{carrier_id}": {"get": _get("A carrier", "Carrier", (404,), [carrier_id])},
        "/api/payments/intent": {
            "post": _post(
                "Accept a payment for a load; the PaymentIntent is created by a job",
                api_payments.PAYMENT_CREATE,
                {202: "Payment"},
                (409,),
            )
        },
        "/api/payments/intent/{payment_id}/confirm": {
            "post": _post(
                "Confirm a payment with a (new) payment method",
                api_payments.PAYMENT_CONFIRM,
                {202: "Payment"},
                (404, 409),
                [payment_id],
            )
        },
        "/api/payments/{payment_id}": {
            "get": _get(
                "A payment's status in Stripe's words (+ pending, failed)",
                "Payment",
                (404,),
                [payment_id],
            )
        },
        "/api/payments/{payment_id}/refund": {
            "post": _post(
                "Refund all or part of a succeeded payment",
                api_refunds.REFUND_CREATE,
                {202: "Refund"},
                (404, 409),
                [payment_id],
                body_required=False,
            )
        },
        "/api/payments/{payment_id}/refunds": {
            "get": _get("A payment's refunds", "RefundList", (404,), [payment_id])
        },
        "/api/refunds/{refund_id}": {
            "get": _get("A refund", "Refund", (404,), [_id_param("refund_id", "refund")])
        },
        "/api/payments/methods/customer/{customer_id}": {
            "get": _get(
                "A customer's saved payment methods (from Stripe)",
                "PaymentMethodList",
                (404, 409, 503),
                [customer_id],
            )
        },
        "/api/payments/methods": {
            "post": _post(
                "Attach a tokenized payment method (pm_…) to a customer",
                api_methods.METHOD_ATTACH,
                {201: "PaymentMethod"},
                (402, 404, 409, 503),
            )
        },
        "/api/payments/methods/{payment_method}": {
            "delete": {
                "summary": "Detach a saved payment method",
                "security": [{"apiKey": []}],
                "parameters": [
                    {
                        "name": "payment_method",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "pattern": "^pm_[A-Za-z0-9_]+$",
                            "maxLength": 255,
                        },
                    }
                ],
                "responses": _responses({200: "PaymentMethod"}, (*AUTH_ERRORS, 404, 422, 503)),
            }
        },
        "/api/payouts/connect/accounts": {
            "post": _post(
                "Request a Stripe Connect Express account for a carrier",
                api_payouts.ACCOUNT_CREATE,
                {202: "ConnectedAccount"},
                (),
            )
        },
        "/api/payouts/connect/accounts/{carrier_id}": {
            "get": _get(
                "A carrier's connected account: status, payouts_enabled, requirements",
                "ConnectedAccount",
                (404,),
                [carrier_id],
            )
        },
        "/api/payouts/connect/accounts/{carrier_id}/onboarding-link": {
            "post": _post(
                "A Stripe-hosted onboarding link for the carrier",
                api_payouts.LINK_CREATE,
                {201: "AccountLink"},
                (404, 409, 503),
                [carrier_id],
                body_required=False,
            )
        },
        "/api/payouts/connect/transfers": {
            "post": _post(
                "Transfer money owed to a carrier to their connected account",
                api_payouts.TRANSFER_CREATE,
                {202: "PayoutBatch"},
                (409,),
            )
        },
        "/api/payouts/connect/payouts": {
            "post": _post(
                "Pay out a carrier's connected balance to their bank",
                api_payouts.PAYOUT_CREATE,
                {202: "PayoutBatch"},
                (409,),
            )
        },
        "/api/payouts/batches": {
            "get": _get(
                "Payout batches, newest first",
                "PayoutBatchList",
                (422,),
                _query_params(api_payouts.BATCH_QUERY),
            )
        },
        "/api/payouts/batches/{batch_id}": {
            "get": _get(
                "A payout batch", "PayoutBatch", (404,), [_id_param("batch_id", "payout batch")]
            )
        },
        "/api/reconciliation/runs": {
            "get": _get(
                "Reconciliation runs, newest day first: the latest not superseded per day and"
                " account (finance and admin keys)",
                "ReconciliationRunList",
                (422,),
                _query_params(reports_api.RUN_QUERY),
            ),
            "post": _post(
                "Enqueue a reconciliation (or re-run) of a day for an account",
                reports_api.RUN_CREATE,
                {202: "ReconciliationRequest"},
                (),
            ),
        },
        "/api/reconciliation/runs/{ref}": {
            "get": _get(
                "A run by id (superseded ones too), or a day's current run of an account as"
                " the full report (totals, discrepancies; amounts in minor units)",
                "ReconciliationReport",
                (404, 422),
                [
                    {
                        "name": "ref",
                        "in": "path",
                        "required": True,
                        "description": "A run id, or a day YYYY-MM-DD.",
                        "schema": {"type": "string", "maxLength": 32, "pattern": "^[0-9-]+$"},
                    },
                    *_query_params(reports_api.DAY_QUERY),
                ],
            )
        },
        "/api/webhooks/stripe": {
            "post": {
                "summary": "Stripe webhook endpoint (Stripe-Signature, 300 s tolerance)",
                "security": [],
                "parameters": [
                    {
                        "name": "Stripe-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("StripeEvent")}},
                },
                "responses": _responses({200: "WebhookAck"}, (400, 413, 429)),
            }
        },
        "/api/webhooks/stripe/health": {
            "get": {
                "summary": "Webhook intake health (any API key with read access)",
                "security": [{"apiKey": []}],
                "responses": _responses({200: "WebhookHealth"}, AUTH_ERRORS),
            }
        },
        "/healthz": {
            "get": {
                "summary": "Process up",
                "security": [],
                "responses": _responses({200: "Health"}, ()),
            }
        },
        "/readyz": {
            "get": {
                "summary": "Database and Redis reachable; Stripe circuit state",
                "security": [],
                "responses": {
                    **_responses({200: "Ready"}, ()),
                    "503": {
                        "description": "Not ready",
                        "content": {"application/json": {"schema": _ref("Ready")}},
                    },
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (Authorization: Bearer <METRICS_TOKEN>; refused"
                " while METRICS_TOKEN is unset)",
                "security": [{"metricsToken": []}],
                "responses": {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_responses({}, (401, 403)),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "405": _responses({}, ())["405"],
                },
            }
        },
    }
    _require_idempotency_keys(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Midway Payments API",
            "version": "1.0.0",
            "description": "Enqueue charges, refunds and carrier payouts; poll their status;"
            " receive Stripe webhooks. Amounts are JSON integers in the currency's minor unit."
            " Card numbers are refused: send Stripe PaymentMethod ids.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "metricsToken": {"type": "http", "scheme": "bearer"},
            },
            "schemas": SCHEMAS,
        },
        "paths": paths,
        "x-text-pattern": TEXT_PATTERN,
    }


def _require_idempotency_keys(paths: JSON) -> None:
    """The POSTs that move money say that their Idempotency-Key is required."""
    required = {**IDEMPOTENCY_PARAM, "required": True}
    for rule in KEY_REQUIRED_RULES:
        operation = paths[re.sub(r"<\w+:(\w+)>", r"{\1}", rule)]["post"]
        operation["parameters"] = [
            required if p["name"] == IDEMPOTENCY_PARAM["name"] else p
            for p in operation["parameters"]
        ]


_DOCUMENT: JSON | None = None


@bp.get("/api/openapi.json")
def document() -> Response:
    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = build_document()
    return jsonify(_DOCUMENT)
