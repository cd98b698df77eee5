"""Reading a request: JSON bodies (strict), query strings, path ids, and the card-number guard."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from web.errors import MalformedRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from web.validation import MAX_ID, Int, Obj, Str, refuse_card_numbers

JSON = dict[str, Any]
# Our bodies nest a few levels; Stripe events a dozen. Deeper is refused before anything walks
# it (Python's own recursion limit would otherwise turn it into a 500).
MAX_JSON_DEPTH = 32


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> JSON:
    result: JSON = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def raw_body() -> bytes:
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(
            f"request body is larger than {request.max_content_length} bytes"
        ) from None


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest, counted without parsing (brackets in strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
        brackets = text.count("[") + text.count("{")
        if brackets > MAX_JSON_DEPTH and _nesting_depth(text) > MAX_JSON_DEPTH:
            raise MalformedRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except _DuplicateKey as dup:
        raise MalformedRequest(f"field {dup} appears twice", field=str(dup)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"request body is not valid JSON: {exc}") from None


def json_payload() -> Any:
    """The body as parsed JSON ({} when empty), refused if it holds anything like a PAN."""
    data = raw_body()
    if not data.strip():
        return {}
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    payload = parse_json(data)
    refuse_card_numbers(payload)
    return payload


def json_body(schema: Obj) -> tuple[JSON, Any]:
    """(validated fields, the raw payload as sent: what idempotency compares)."""
    payload = json_payload()
    return schema.check(payload), payload


def query_args(schema: Obj) -> JSON:
    """Query parameters checked with the same schema layer (integers parsed strictly)."""
    raw: JSON = {}
    for key in request.args:
        values = request.args.getlist(key)
        if len(values) > 1:
            raise ValidationFailed(f"{key} given more than once", field=key, code="invalid_value")
        value: Any = values[0]
        spec = schema.fields.get(key)
        if isinstance(spec, Int):
            if not (value.isascii() and value.isdigit()) or len(value) > 19:
                raise ValidationFailed(f"{key} must be an integer", field=key, code="wrong_type")
            value = int(value)
        elif isinstance(spec, Str) or spec is None:
            pass
        raw[key] = value
    refuse_card_numbers(raw, "query")
    return schema.check(raw, "query")


def path_id(value: int, what: str) -> int:
    """Flask's int converter takes any size; ids beyond BIGINT simply do not exist."""
    if not 1 <= value <= MAX_ID:
        from web.errors import ResourceNotFound

        raise ResourceNotFound(f"no {what} {value}")
    return value
