"""Stripe events and list pages as typed records (conventions: records.py).

An event keeps its raw JSON (`payload`): it is stored as received (webhook_events.store_event),
and its `data.object` is read into the record its type's handler needs, through that record's
own `from_stripe` (the one parser for gateway answers and webhooks), when it is processed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from payments.gateway.reading import Data, Reader

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    created: int
    account: str | None
    # Stripe's JSON, kept as-is for storage: the event row holds exactly what Stripe sent.
    payload: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_stripe(cls, data: Data) -> Event:
        r = Reader(data, "event")
        return cls(
            id=r.text("id"),
            type=r.text("type"),
            created=r.unix(),
            account=r.opt_text("account"),
            payload=data,
        )

    @property
    def data_object(self) -> Mapping[str, Any]:
        """The raw `data.object`, for the record its handler reads it into."""
        data = Reader(self.payload, "event").nested("data", lambda d: d)
        if data is None:
            raise Reader(self.payload, "event").fail("data", "an object")
        obj = data.get("object")
        if not isinstance(obj, Mapping):
            raise Reader(data, "event.data").fail("object", "an object")
        return obj


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a Stripe list."""

    data: tuple[T, ...]
    has_more: bool

    @classmethod
    def from_stripe(cls, data: Data, parse: Callable[[Data], T]) -> Page[T]:
        r = Reader(data, "list")
        return cls(data=tuple(parse(item) for item in r.items("data")), has_more=r.flag("has_more"))
