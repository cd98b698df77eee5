"""State machine columns: a StrEnum per machine, its CHECK constraint and its column type.

Each table's `status` words are one StrEnum beside the table (PaymentStatus, RefundStatus, …):
the CHECK constraint is generated from it, and the column reads and writes its members. The
members are the words the API, the reports and the database have always used (a StrEnum member
equals, hashes and formats as its string), so nothing outside Python sees a difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Dialect, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

S = TypeVar("S", bound=StrEnum)


def sql_list(members: Iterable[StrEnum]) -> str:
    """`('a', 'b', …)` in the members' order: the very text the migrations wrote."""
    return str(tuple(member.value for member in members))


def in_check(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN {sql_list(enum)}"


class StatusType(TypeDecorator[S]):
    """A VARCHAR holding one of the enum's values; Python sees the enum's members. An unknown
    word is refused before it reaches the database (whose CHECK refuses it too)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[S], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> S | None:
        return None if value is None else self.enum(value)


def status_column(enum: type[S], length: int, default: S, **kwargs: Any) -> Mapped[S]:
    return mapped_column(
        StatusType(enum, length), default=default, server_default=default.value, **kwargs
    )
