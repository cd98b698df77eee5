"""`midway keys …`: API keys for backend services, finance and admins (secret shown once)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from cli.db import _url
from models.api_access import API_ROLES
from models.db import make_engine, make_session_factory, transaction
from web.keys import KeyError_, create_key, list_keys, revoke_key


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the configured database; the engine is closed afterwards."""
    engine = make_engine(_url())
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@click.group()
def keys() -> None:
    """API keys (stored hashed; the secret is printed once, at creation)."""


@keys.command()
@click.option("--role", type=click.Choice(API_ROLES), required=True, help="What the key may do.")
@click.option("--name", required=True, help="Who or what uses the key (e.g. dispatch-backend).")
def create(role: str, name: str) -> None:
    """Create a key and print its secret once."""
    try:
        with _session() as session:
            key, token = create_key(session, role=role, name=name)
            key_id, prefix = key.id, key.prefix
    except KeyError_ as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created key {key_id} ({prefix}) role={role} name={name}")
    click.echo("secret (shown once; store it now):")
    click.echo(token)


@keys.command(name="list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
def list_(include_revoked: bool) -> None:
    """List keys (never their secrets)."""
    with _session() as session:
        rows = list_keys(session, include_revoked=include_revoked)
        lines = [
            f"{k.id}\t{k.prefix}\t{k.role}\t{k.name}\t"
            f"last_used={k.last_used_at.isoformat() if k.last_used_at else '-'}\t"
            f"{'revoked ' + k.revoked_at.isoformat() if k.revoked_at else 'active'}"
            for k in rows
        ]
    click.echo("id\tprefix\trole\tname\tlast_used\tstate")
    for line in lines:
        click.echo(line)


@keys.command()
@click.argument("key")
def revoke(key: str) -> None:
    """Revoke KEY (its id or prefix). Takes effect within seconds (per-process cache)."""
    try:
        with _session() as session:
            row = revoke_key(session, key)
            key_id, prefix = row.id, row.prefix
    except KeyError_ as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"revoked key {key_id} ({prefix})")
