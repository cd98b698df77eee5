"""Typed access to request parameters with Stripe's validation errors.

Every endpoint reads its parameters through `Params` and calls `done()` before changing any
state: a parameter nobody read is an unknown parameter, answered with Stripe's
`parameter_unknown`, so bad input never half-applies.
"""

from __future__ import annotations

import builtins
from typing import Any

from . import currencies
from .errors import InvalidRequest

_TRUE = {"true", "True", "1"}
_FALSE = {"false", "False", "0"}


class Params:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.used: set[builtins.str] = {"expand"}

    def has(self, name: builtins.str) -> builtins.bool:
        return name in self.data

    def raw(self, name: builtins.str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def done(self) -> None:
        for key in self.data:
            if key not in self.used:
                raise InvalidRequest(
                    f"Received unknown parameter: {key}", code="parameter_unknown", param=key
                )

    def _missing(self, name: builtins.str) -> InvalidRequest:
        return InvalidRequest(
            f"Missing required param: {name}.", code="parameter_missing", param=name
        )

    def str(
        self, name: builtins.str, *, required: builtins.bool = False,
        choices: tuple[builtins.str, ...] = (),
    ) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, str):
            raise InvalidRequest(
                f"Invalid string: {value!r}", code="parameter_invalid_string", param=name
            )
        if choices and value not in choices:
            raise InvalidRequest(
                f"Invalid {name}: must be one of {', '.join(choices)}",
                param=name,
            )
        return value

    def int(
        self, name: builtins.str, *, required: builtins.bool = False,
        minimum: builtins.int | None = None,
    ) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, str):
            raise InvalidRequest(
                f"Invalid integer: {value!r}", code="parameter_invalid_integer", param=name
            )
        text = value.strip()
        body = text[1:] if text[:1] in "+-" else text
        if not body.isdigit():
            raise InvalidRequest(
                f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
            )
        number = int(text)
        if minimum is not None and number < minimum:
            raise InvalidRequest(
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=name,
            )
        return number

    def amount(self, name: builtins.str = "amount", *, required: builtins.bool = False) -> Any:
        """A positive amount in minor units."""
        return self.int(name, required=required, minimum=1)

    def bool(self, name: builtins.str, default: builtins.bool | None = None) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise InvalidRequest(f"Invalid boolean: {value}", param=name)

    def currency(self, name: builtins.str = "currency", *, required: builtins.bool = True) -> Any:
        value = self.str(name, required=required)
        if value is None:
            return None
        value = value.lower()
        if not currencies.is_supported(value):
            raise InvalidRequest(
                f"Invalid currency: {value}. Stripe currently supports these currencies: "
                + ", ".join(currencies.SUPPORTED),
                param=name,
            )
        return value

    def dict(self, name: builtins.str) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise InvalidRequest(f"Invalid object: {name}", param=name)
        return value

    def list(self, name: builtins.str) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            raise InvalidRequest(f"Invalid array: {name}", param=name)
        return value

    def metadata(self, name: builtins.str = "metadata") -> Any:
        """Stripe metadata: string values; an empty string value unsets the key."""
        value = self.raw(name)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid object", param=name)
        for key, v in value.items():
            if not isinstance(v, str):
                raise InvalidRequest(
                    f"Invalid value for metadata key {key}: must be a string",
                    param=f"{name}[{key}]",
                )
            if len(key) > 40:
                raise InvalidRequest(
                    "Metadata keys can be at most 40 characters", param=f"{name}[{key}]"
                )
        return value

    def range(self, name: builtins.str) -> Any:
        """A created/arrival_date filter: an integer or {gt, gte, lt, lte}."""
        value = self.raw(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            sub = Params({name: value})
            exact = sub.int(name)
            return {"gte": exact, "lte": exact}
        if not isinstance(value, dict):
            raise InvalidRequest(f"Invalid {name}", param=name)
        out: dict[str, int] = {}
        for op, v in value.items():
            if op not in ("gt", "gte", "lt", "lte"):
                raise InvalidRequest(
                    f"Received unknown parameter: {name}[{op}]",
                    code="parameter_unknown",
                    param=f"{name}[{op}]",
                )
            out[op] = Params({op: v}).int(op)
        return out


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe merges metadata on update; an empty value deletes the key."""
    if update is None:
        return current
    if update == {}:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
