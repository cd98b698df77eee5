"""Throwaway databases on a PostgreSQL server, for the tests and the benchmarks.

Each gets a unique name, may be cloned from a template (fast: a migrated schema is copied,
not rebuilt), and is dropped with FORCE so lingering connections cannot keep it alive.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import load_settings
from models.db import embedded_database_url


def server_url(embedded_dir: Path) -> str:
    """DATABASE_URL's server when set, else the embedded one kept in `embedded_dir`."""
    return load_settings().database_url or embedded_database_url(embedded_dir)


class ScratchDatabases:
    """Creates and drops uniquely named databases on one server."""

    def __init__(self, server: str) -> None:
        self.server = server
        self._admin = create_engine(server, isolation_level="AUTOCOMMIT")

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return make_url(self.server).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self._admin.dispose()


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """An empty database on `server` for the duration of the block."""
    databases = ScratchDatabases(server)
    url = databases.create(prefix)
    try:
        yield url
    finally:
        databases.drop(url)
        databases.close()
