"""The OpenAPI document is true: every route is in it and everything in it is routed, and a
property-based fuzz of every operation (schemathesis, generating from the document) gets no
5xx and only responses — statuses, content types, bodies — that the document describes. The
webhook endpoint is fuzzed with correctly signed events too, and the finance pages' forms and
query strings (signed in, with the session's CSRF token) with zero 5xx."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_helpers import Browserless
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from web_helpers import WEBHOOK_SECRETS, create_parties, payment_body

from models.db import transaction
from payments import webhook_events
from payments.webhook_events import HANDLERS
from stripe_sim.signing import sign
from web.pages import HTML_BLUEPRINTS

FUZZ_EXAMPLES = 25


def test_document_and_routes_agree(app, backend):
    document = backend.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        # The finance pages are HTML for people, not the JSON API this document describes.
        if rule.endpoint == "static" or rule.endpoint.split(".")[0] in HTML_BLUEPRINTS:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", f"{{{argument}}}")
            path = path.replace(f"<string:{argument}>", f"{{{argument}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method))
    assert routed == documented
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "post" and path != "/api/webhooks/stripe":
                names = [p["name"] for p in operation["parameters"]]
                assert "Idempotency-Key" in names, path
            for status in operation["responses"]:
                assert status.isdigit()


def test_request_schemas_are_the_validators(backend):
    document = backend.get("/api/openapi.json").json
    body = document["paths"]["/api/payments/intent"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["amount"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 99_999_999,
        "description": "Amount in the currency's minor unit (cents; yen for jpy).",
    }
    assert "jpy" in schema["properties"]["currency"]["enum"]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_fuzz_every_operation_from_the_document(app: Any, backend: Any, tokens: Any) -> None:
    """Schemathesis generates requests for each operation from the served document.

    (Its pytest plugin does not run on pytest 9 yet, so the operations are driven with
    Hypothesis directly: one @given per operation, FUZZ_EXAMPLES cases each.)
    """
    create_parties(backend)  # ids 1 exist, so some generated requests reach real rows
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {tokens['backend']}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()


def test_fuzz_the_webhook_endpoint_with_signed_events(
    app: Any, backend: Any, sessions: Any, gateway: Any
) -> None:
    """Events generated from the document's StripeEvent schema, correctly signed, half of them
    of a type we handle and naming our payment 1: no 5xx, answers as documented, and every
    stored event is then processed to a final status (never left to be retried forever)."""
    customer, carrier = create_parties(backend)
    backend.post("/api/payments/intent", payment_body(customer, carrier))
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operation = api["/api/webhooks/stripe"]["POST"]
    client = app.test_client()

    @given(
        case=operation.as_strategy(),
        handled=st.sampled_from(sorted(HANDLERS)),
        ours=st.booleans(),
    )
    @settings(
        max_examples=FUZZ_EXAMPLES * 2,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any, handled: str, ours: bool) -> None:
        event = dict(case.body)
        if ours:
            event["type"] = handled
            obj = dict(event["data"]["object"])
            obj["metadata"] = {**(obj.get("metadata") or {}), "payment_id": "1", "refund_id": "1"}
            event["data"] = {**event["data"], "object": obj}
        payload = json.dumps(event).encode()
        response = client.post(
            "/api/webhooks/stripe",
            data=payload,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": sign(payload, WEBHOOK_SECRETS[0]),
            },
        )
        case.validate_response(response, checks=CHECKS)
        nul = "\\u0000" in payload.decode()  # PostgreSQL cannot store it: refused
        assert response.status_code == (400 if nul else 200), response.get_data(as_text=True)
        if not nul and not response.json["duplicate"]:
            with transaction(sessions) as session:
                row_id, _ = webhook_events.store_event(session, event)
            status = webhook_events.process_event(sessions, gateway, row_id)
            assert status in webhook_events.FINAL_EVENT_STATUSES

    fuzz()


def finance_forms_document(csrf: str) -> dict[str, Any]:
    """The finance pages' forms and query strings, described for the fuzzer (HTML, so not in
    the API's document). The CSRF token is the session's, so the handlers behind it run."""
    text = {"type": "string"}
    token = {"const": csrf}

    def form(**fields: Any) -> dict[str, Any]:
        schema = {"type": "object", "properties": {**fields, "csrf_token": token}}
        return {"content": {"application/x-www-form-urlencoded": {"schema": schema}}}

    def path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": schema}

    def query(*names: str) -> list[dict[str, Any]]:
        return [{"name": n, "in": "query", "required": False, "schema": text} for n in names]

    day = path("day", text)
    discrepancy = path("id", {"type": "integer"})
    action = path("action", {"enum": ["acknowledge", "resolve", "reopen", "accept", "x"]})
    ok = {"default": {"description": "any"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "finance pages", "version": "1"},
        "paths": {
            "/reports": {
                "get": {"parameters": query("page", "account", "status"), "responses": ok}
            },
            "/reports/{day}": {
                "get": {"parameters": [day, *query("account", "kind")], "responses": ok}
            },
            "/reports/{day}/rerun": {
                "post": {
                    "parameters": [day],
                    "requestBody": form(account=text, next=text),
                    "responses": ok,
                }
            },
            "/reports/discrepancies/{id}": {"get": {"parameters": [discrepancy], "responses": ok}},
            "/reports/discrepancies/{id}/{action}": {
                "post": {
                    "parameters": [discrepancy, action],
                    "requestBody": form(note=text, next=text),
                    "responses": ok,
                }
            },
            "/sign-in": {
                "get": {"parameters": query("next"), "responses": ok},
                "post": {"requestBody": form(api_key=text, next=text), "responses": ok},
            },
        },
    }


def test_fuzz_the_finance_pages_forms(app: Any, tokens: Any) -> None:
    finance = Browserless(app.test_client())
    finance.sign_in(tokens["finance"])
    api = schemathesis.openapi.from_dict(finance_forms_document(finance.token))
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            response = finance.client.open(
                case.formatted_path,
                method=case.method,
                query_string=case.query or None,
                data=case.body if isinstance(case.body, dict) else None,
            )
            assert response.status_code < 500, (case.formatted_path, case.query, case.body)
            if response.status_code == 303 and case.path == "/sign-in":
                location = response.headers["Location"]
                assert location.startswith("/") and not location.startswith("//")

        fuzz()
