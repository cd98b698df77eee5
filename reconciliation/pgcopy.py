"""PostgreSQL COPY between tables and DataFrames: the bulk path for both sides of a run.

`copy_out` streams `COPY (SELECT …) TO STDOUT (FORMAT csv)` into pandas' C reader, with
the contract's dtypes (text as "str", money and times as int64: never float).
`copy_in` writes a frame with `COPY … FROM STDIN (FORMAT csv)`.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from sqlalchemy.orm import Session

from reconciliation.frames import INT, Column


def driver_connection(session: Session) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy session (joining its transaction)."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    return connection


def copy_out(
    session: Session,
    query: sql.Composable,
    columns: Sequence[Column],
    *,
    repeated: Collection[str] = (),
) -> pd.DataFrame:
    """Run COPY (query) TO STDOUT and return its rows as a frame with the columns' dtypes.

    The rows stream straight into the CSV reader (no copy of the whole text in memory).
    Columns named in `repeated` hold few distinct values (type, currency, status…): they are
    read as categories and expanded so that equal cells share one str object, which saves
    ~50 bytes a cell (~300 MB over a million rows and six such columns).
    """
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    names = [c.name for c in columns]
    dtypes: dict[str, Any] = {
        c.name: (np.int64 if c.dtype == INT else "category" if c.name in repeated else "str")
        for c in columns
    }
    with driver_connection(session).cursor() as cursor, cursor.copy(statement) as copy:
        try:
            frame = pd.read_csv(
                _CopyReader(copy),
                header=None,
                names=names,
                dtype=dtypes,
                keep_default_na=False,
                na_values=[""],
                engine="c",
            )
        except pd.errors.EmptyDataError:
            return pd.DataFrame({c.name: pd.Series([], dtype=_final(c)) for c in columns})
    for name in repeated:
        frame[name] = _shared_str(frame[name])
    return frame


def _final(column: Column) -> Any:
    return np.int64 if column.dtype == INT else "str"


def _shared_str(series: pd.Series) -> pd.Series:
    """A categorical column as "str" whose equal cells point to one str object."""
    codes = series.cat.codes.to_numpy()
    values = np.array([*map(str, series.cat.categories), None], dtype=object)
    return pd.Series(values[codes], index=series.index, dtype="str")


class _CopyReader(io.RawIOBase):
    """A COPY TO STDOUT as a readable byte stream. COPY hands out one row at a time, so the
    rows are appended to one buffer until a read is filled: a row costs one append, not a
    slice of its own (a staged slice of a million rows parses 1.4 – 2.7 s sooner a side)."""

    def __init__(self, copy: Iterable[Any]) -> None:
        self._rows = iter(copy)
        self._buffer = bytearray()
        self._start = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        wanted, buffer = len(target), self._buffer
        if len(buffer) - self._start < wanted:
            del buffer[: self._start]
            self._start = 0
            for row in self._rows:
                buffer += row
                if len(buffer) >= wanted:
                    break
        size = min(wanted, len(buffer) - self._start)
        with memoryview(buffer) as view:
            target[:size] = view[self._start : self._start + size]
        self._start += size
        return size


def copy_in(session: Session, table: str, frame: pd.DataFrame) -> int:
    """COPY the frame's rows into `table` (columns named like the frame's); return the count."""
    if len(frame) == 0:
        return 0
    text = frame.to_csv(index=False, header=False, na_rep="")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    )
    with driver_connection(session).cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(text)
    return len(frame)
