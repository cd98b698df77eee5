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
        reader = io.BufferedReader(_CopyReader(copy), buffer_size=1 << 20)
        try:
            frame = pd.read_csv(
                reader,
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
    """A COPY TO STDOUT as a readable byte stream."""

    def __init__(self, copy: Iterable[Any]) -> None:
        self._chunks = iter(copy)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
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
