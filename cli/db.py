"""`midway db …`: schema migrations (Alembic) on the configured or embedded PostgreSQL."""

from __future__ import annotations

import click

from config import SettingsError, load_settings
from models.db import database_url


def _url() -> str:
    try:
        return database_url(load_settings())
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group()
def db() -> None:
    """Database schema migrations."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (the latest by default)."""
    from models import migrate  # Alembic only for the commands that migrate

    migrate.upgrade(_url(), revision)
    click.echo(f"database at revision {migrate.current(_url())}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ("base" removes every table; "-1" one step)."""
    from models import migrate

    migrate.downgrade(_url(), revision)
    click.echo(f"database at revision {migrate.current(_url()) or 'base'}")


@db.command()
def current() -> None:
    """Print the database's current revision."""
    from models import migrate

    click.echo(migrate.current(_url()) or "base (empty)")
