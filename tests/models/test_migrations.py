"""The schema comes from Alembic alone, and the migrations agree with the models."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import models
from models.migrate import current, downgrade, upgrade


@pytest.fixture
def fresh_database(scratch_databases) -> Iterator[str]:
    url = scratch_databases.create("midway_migrations")
    yield url
    scratch_databases.drop(url)


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_a_fresh_database(fresh_database: str) -> None:
    upgrade(fresh_database)
    assert table_names(fresh_database) == set(models.Base.metadata.tables)
    assert current(fresh_database) is not None

    downgrade(fresh_database, "base")
    assert table_names(fresh_database) == set()
    assert current(fresh_database) is None

    upgrade(fresh_database)
    assert table_names(fresh_database) == set(models.Base.metadata.tables)
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            triggers = (
                conn.execute(
                    text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger_%' ORDER BY 1")
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert triggers == [
        "ledger_lines_append_only",
        "ledger_lines_balanced",
        "ledger_lines_no_truncate",
        "ledger_lines_posting_open",
        "ledger_postings_append_only",
        "ledger_postings_balanced",
        "ledger_postings_no_truncate",
    ]


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
