"""Reading one Stripe JSON object field by field, for the records' `from_stripe` functions.

Every field is checked for presence and JSON type here, so a payload we cannot read fails as
StripeObjectUnreadable naming the object and the field (a final error), never as a KeyError or
a TypeError somewhere in the domain. Expandable fields (an id, or the object when we asked
Stripe to expand it) are read by one function, `expandable`, wherever they occur.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from payments.errors import StripeObjectUnreadable

Data = Mapping[str, Any]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=HasId)
T = TypeVar("T")


def expanded(record: T | None, obj: str, oid: str, field: str) -> T:
    """An expandable field the caller needs expanded (our request asked Stripe to expand it)."""
    if record is None:
        raise StripeObjectUnreadable(
            f"Stripe {obj} {oid}: field {field!r} is not an expanded object", obj=obj, field=field
        )
    return record


class Reader:
    """Reads fields of one Stripe object; errors say which object and which field."""

    __slots__ = ("_data", "_what")

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, Mapping):
            raise StripeObjectUnreadable(
                f"Stripe {what} is not a JSON object ({type(data).__name__})", obj=what, field=""
            )
        self._data: Data = data
        self._what = what

    def fail(self, field: str, expected: str) -> StripeObjectUnreadable:
        found = self._data.get(field)
        oid = self._data.get("id")
        name = f"{self._what} {oid}" if isinstance(oid, str) else self._what
        got = "missing" if found is None else f"a {type(found).__name__}"
        return StripeObjectUnreadable(
            f"Stripe {name}: field {field!r} should be {expected}, is {got}",
            obj=self._what,
            field=field,
        )

    def text(self, field: str) -> str:
        value = self._data.get(field)
        if type(value) is not str:
            raise self.fail(field, "a string")
        return value

    def opt_text(self, field: str) -> str | None:
        value = self._data.get(field)
        if value is None or type(value) is str:
            return value
        raise self.fail(field, "a string or null")

    def integer(self, field: str) -> int:
        value = self._data.get(field)
        if type(value) is not int:  # bool is not an amount
            raise self.fail(field, "an integer")
        return value

    def opt_integer(self, field: str) -> int | None:
        value = self._data.get(field)
        if value is None or type(value) is int:
            return value
        raise self.fail(field, "an integer or null")

    def unix(self, field: str = "created") -> int:
        """A Unix time. JSON may write one as 1.7e9, which parses as an integral float: that is
        the integer (the webhook endpoint accepts it so, web/webhooks.py); a fraction is not."""
        value = self._data.get(field)
        if type(value) is float and value.is_integer():
            return int(value)
        return self.integer(field)

    def opt_unix(self, field: str) -> int | None:
        return None if self._data.get(field) is None else self.unix(field)

    def currency(self, field: str = "currency") -> str:
        """A currency code as we keep them: lowercase ISO 4217, as Stripe writes it."""
        return self.text(field).lower()

    def opt_currency(self, field: str = "currency") -> str | None:
        value = self.opt_text(field)
        return None if value is None else value.lower()

    def flag(self, field: str) -> bool:
        """A boolean Stripe may omit (then false)."""
        return bool(self._data.get(field))

    def opt_decimal(self, field: str) -> Decimal | None:
        """A JSON number (an exchange rate) as the decimal it was written as; never a float."""
        value = self._data.get(field)
        if value is None:
            return None
        if type(value) not in (int, float):
            raise self.fail(field, "a number or null")
        return Decimal(repr(value)) if type(value) is float else Decimal(value)

    def metadata(self) -> Mapping[str, str]:
        """Stripe metadata: string keys to string values (anything else is not ours)."""
        value = self._data.get("metadata")
        if not isinstance(value, Mapping):
            return {}
        return {k: v for k, v in value.items() if type(v) is str}

    def child(self, field: str) -> Reader | None:
        """A nested object (not an expandable one), or None when absent."""
        value = self._data.get(field)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(field, "an object or null")
        return Reader(value, f"{self._what}.{field}")

    def nested(self, field: str, parse: Callable[[Data], T]) -> T | None:
        """A nested object read by `parse`, or None when absent."""
        value = self._data.get(field)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(field, "an object or null")
        return parse(value)

    def items(self, field: str) -> list[Any]:
        """A JSON array, or a Stripe list object's `data` (empty when absent)."""
        value = self._data.get(field)
        if isinstance(value, Mapping):
            value = value.get("data")
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, "an array or null")
        return value

    def expandable(self, field: str, parse: Callable[[Data], R]) -> tuple[str | None, R | None]:
        """An id-or-object field: (its id, the record when Stripe expanded it)."""
        return self.expanded(self._data.get(field), field, parse)

    def expanded(
        self, value: object, field: str, parse: Callable[[Data], R]
    ) -> tuple[str | None, R | None]:
        if value is None:
            return None, None
        if type(value) is str:
            return value, None
        if isinstance(value, Mapping):
            record = parse(value)
            return record.id, record
        raise self.fail(field, "an id, an object or null")

    def ref(self, field: str) -> str | None:
        """Only the id of an id-or-object field, whichever form Stripe sent."""
        value = self._data.get(field)
        if value is None or type(value) is str:
            return value
        if isinstance(value, Mapping) and type(value.get("id")) is str:
            return str(value["id"])
        raise self.fail(field, "an id, an object with an id, or null")
