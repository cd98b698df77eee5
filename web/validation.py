"""A small schema layer: each field validates a JSON value and describes itself as JSON Schema.

The same objects check request bodies and build the OpenAPI document, so the two cannot drift.
Strict on purpose: no coercion ("12" is not 12, 12.5 and true are not amounts), unknown fields
refused, and every error names the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from models.money import SUPPORTED
from web.errors import CardDataRefused, ValidationFailed

JSON = dict[str, Any]
# Printable text: no C0 control characters or DEL (PostgreSQL refuses NUL; logs hate the rest).
TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"
_CONTROL = re.compile("[\x00-\x1f\x7f]")
MAX_AMOUNT = 99_999_999  # Stripe's ceiling: eight digits in the minor unit.
MAX_ID = 2**63 - 1  # BIGINT


def _type_error(name: str, expected: str, value: object) -> ValidationFailed:
    got = "null" if value is None else type(value).__name__
    got = {"bool": "boolean", "str": "string", "dict": "object", "list": "array"}.get(got, got)
    return ValidationFailed(f"{name} must be {expected}, got {got}", field=name, code="wrong_type")


def _brief(value: object) -> str:
    """A refused value as the message repeats it: short (bodies can be large)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _in_cents(value: object) -> int | None:
    """12.5 or "12.50" read as a major-unit amount, in cents (1250); None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, float | int | str):
        return None
    try:
        cents = Decimal(str(value).strip()) * 100
    except InvalidOperation:
        return None
    return int(cents) if cents.is_finite() and cents == cents.to_integral_value() else None


@dataclass(frozen=True)
class Int:
    minimum: int | None = None
    maximum: int | None = None
    description: str = ""
    nullable: bool = False
    minor_units: bool = False  # an amount of money: teach minor units when refused

    def check(self, value: object, name: str) -> int:
        # bool is an int subclass and JSON 12.0 arrives as float: both refused.
        if type(value) is not int:
            if self.minor_units:
                cents = _in_cents(value)
                example = (
                    f": for {Decimal(cents) / 100:.2f} usd send {cents}"
                    if cents is not None and cents > 0
                    else ""
                )
                raise ValidationFailed(
                    f"{name} must be an integer in the currency's minor unit (cents for usd,"
                    f" yen for jpy, a zero-decimal currency), got {_brief(value)}{example}",
                    field=name,
                    code="wrong_type",
                )
            raise _type_error(name, "an integer", value)
        if self.minimum is not None and value < self.minimum:
            raise ValidationFailed(
                f"{name} must be at least {self.minimum}", field=name, code="out_of_range"
            )
        if self.maximum is not None and value > self.maximum:
            raise ValidationFailed(
                f"{name} must be at most {self.maximum}", field=name, code="out_of_range"
            )
        return value

    def json_schema(self) -> JSON:
        schema: JSON = {"type": ["integer", "null"] if self.nullable else "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class Str:
    min_length: int = 1
    max_length: int = 200
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    description: str = ""
    nullable: bool = False
    error_code: str = "invalid_value"
    hint: str = ""

    def check(self, value: object, name: str) -> str:
        if not isinstance(value, str):
            raise _type_error(name, "a string", value)
        if self.enum is not None:
            if value not in self.enum and value.lower() in self.enum:
                raise ValidationFailed(
                    f"{name} must be {self.hint or 'lowercase'}:"
                    f" send {value.lower()!r}, not {_brief(value)}",
                    field=name,
                    code=self.error_code,
                )
            if value not in self.enum:
                shown = f"one of {', '.join(self.enum)}" if len(self.enum) <= 8 else self.hint
                raise ValidationFailed(
                    f"{name} must be {shown}, got {_brief(value)}", field=name, code=self.error_code
                )
            return value
        if not self.min_length <= len(value) <= self.max_length:
            raise ValidationFailed(
                f"{name} must be {self.min_length} to {self.max_length} characters",
                field=name,
                code="invalid_length",
            )
        if _CONTROL.search(value):
            raise ValidationFailed(
                f"{name} contains control characters", field=name, code="invalid_characters"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(
                f"{name} is not valid Unicode text", field=name, code="invalid_characters"
            ) from None
        if self.pattern is not None and not re.search(self.pattern, value):
            raise ValidationFailed(
                f"{name} must be {self.hint}" if self.hint else f"{name} is not valid",
                field=name,
                code=self.error_code,
            )
        return value

    def json_schema(self) -> JSON:
        schema: JSON = {"type": ["string", "null"] if self.nullable else "string"}
        if self.enum is not None:
            schema["enum"] = list(self.enum) + ([None] if self.nullable else [])
        else:
            schema["minLength"] = self.min_length
            schema["maxLength"] = self.max_length
            schema["pattern"] = self.pattern or TEXT_PATTERN
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class Bool:
    description: str = ""
    nullable: bool = False

    def check(self, value: object, name: str) -> bool:
        if not isinstance(value, bool):
            raise _type_error(name, "a boolean", value)
        return value

    def json_schema(self) -> JSON:
        schema: JSON = {"type": ["boolean", "null"] if self.nullable else "boolean"}
        if self.description:
            schema["description"] = self.description
        return schema


Field = Int | Str | Bool


@dataclass(frozen=True)
class Obj:
    """A JSON object with known fields; `required` must be present and non-null."""

    fields: Mapping[str, Field]
    required: frozenset[str] = field(default_factory=frozenset)
    description: str = ""

    def check(self, value: object, name: str = "body") -> JSON:
        if not isinstance(value, dict):
            raise _type_error(name, "a JSON object", value)
        for key in value:
            if key not in self.fields:
                raise ValidationFailed(
                    f"unknown field {key!r}; expected one of {', '.join(self.fields)}",
                    field=key,
                    code="unknown_field",
                )
        clean: JSON = {}
        for key, spec in self.fields.items():
            raw = value.get(key)
            if raw is None:
                if key in self.required:
                    raise ValidationFailed(f"{key} is required", field=key, code="required")
                if key in value and not spec.nullable:
                    raise _type_error(key, _expected(spec), raw)
                continue
            clean[key] = spec.check(raw, key)
        return clean

    def json_schema(self) -> JSON:
        schema: JSON = {
            "type": "object",
            "properties": {key: spec.json_schema() for key, spec in self.fields.items()},
            "additionalProperties": False,
        }
        if self.required:
            schema["required"] = sorted(self.required)
        if self.description:
            schema["description"] = self.description
        return schema


def _expected(spec: Field) -> str:
    return {Int: "an integer", Str: "a string", Bool: "a boolean"}[type(spec)]


def obj(required: Iterable[str] = (), **fields: Field) -> Obj:
    return Obj(fields, frozenset(required))


# Reusable fields -----------------------------------------------------------------------------


def amount(description: str = "Amount in the currency's minor unit (cents; yen for jpy).") -> Int:
    return Int(minimum=1, maximum=MAX_AMOUNT, description=description, minor_units=True)


def identifier(description: str) -> Int:
    return Int(minimum=1, maximum=MAX_ID, description=description)


CURRENCY = Str(
    enum=tuple(sorted(SUPPORTED)),
    description="Lowercase ISO 4217 code of a currency Stripe supports (payments in a currency"
    " the platform does not settle in are converted by Stripe; see a payment's settlement).",
    error_code="unknown_currency",
    hint="a supported lowercase ISO 4217 code such as usd, eur or jpy",
)
EMAIL = Str(
    max_length=320,
    pattern=r"^[^@\s\u0000-\u001f\u007f]+@[^@\s\u0000-\u001f\u007f]+\.[^@\s\u0000-\u001f\u007f]+$",
    error_code="invalid_email",
    hint="an email address such as ap@acme.example (one @, a dot in the domain, no spaces)",
)
NAME = Str(max_length=200, description="Display name.")
PAYMENT_METHOD = Str(
    max_length=255,
    pattern=r"^pm_[A-Za-z0-9_]+$",
    description="A Stripe PaymentMethod id (pm_…): a token, never card data.",
    error_code="invalid_payment_method",
    hint="a PaymentMethod id such as pm_card_visa (tokenize cards with Stripe.js; never send"
    " card numbers)",
)


# Card numbers --------------------------------------------------------------------------------

_PAN_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_pan(text: str) -> bool:
    """13–19 digits (spaces or dashes allowed between them) that pass the Luhn check."""
    for match in _PAN_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return True
    return False


def refuse_card_numbers(value: object, path: str = "body") -> None:
    """Raise CardDataRefused if any key or value anywhere in a JSON document looks like a PAN.

    The message never repeats the value.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            child = key if path == "body" else f"{path}.{key}"
            if looks_like_pan(str(key)):
                raise _pan_error(path)
            refuse_card_numbers(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_card_numbers(item, f"{path}[{index}]")
    elif isinstance(value, str | int) and not isinstance(value, bool):
        if looks_like_pan(str(value)):
            raise _pan_error(path)


def _pan_error(path: str) -> CardDataRefused:
    return CardDataRefused(
        f"{path} looks like a card number; this API never accepts card data. Tokenize the card"
        " with Stripe.js or the mobile SDKs and send its PaymentMethod id (pm_…)",
        field=path,
    )
