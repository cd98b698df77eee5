"""The OpenAPI document is true: every route is in it and everything in it is routed, and a
property-based fuzz of every operation (schemathesis, generating from the document) gets no
5xx and only responses — statuses, content types, bodies — that the document describes."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from web_helpers import create_parties

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
