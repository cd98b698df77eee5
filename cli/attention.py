"""`midway attention`: the payments, refunds and payout batches parked for a person.

    midway attention list [--format table|json]
    midway attention retry KIND ID --by NAME [--note TEXT]   clear the mark, run the job again
    midway attention cancel KIND ID --by NAME --note TEXT    give the row up (no Stripe call)

KIND is payment, refund or payout_batch. Every retry and cancel is recorded (who, when, the
reason the row was parked, the note) in attention_actions. A retried row's job looks up what
Stripe did before sending anything. Exit code 2 on bad input (unknown kind or row, a row that
is not parked, no name) or an unreachable database; nothing is changed then.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from config import Settings, SettingsError, load_settings
from models.db import database_url, make_engine, make_session_factory, transaction
from payments import attention
from payments.errors import InvalidOperation, NotFound

KIND = click.Choice(sorted(attention.KINDS))


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        click.echo(f"midway attention: {error}", err=True)
        sys.exit(2)


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the configured database; the engine is closed afterwards."""
    engine = make_engine(database_url(_settings()))
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@click.group("attention")
def attention_group() -> None:
    """Money rows that need a person: list them, retry or cancel one."""


@attention_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def list_parked(fmt: str) -> None:
    """Every payment, refund and payout batch that needs attention, with its reason."""
    with _session() as session:
        rows = attention.parked(session)
    if fmt == "json":
        out = [
            {
                "kind": r.kind,
                "id": r.id,
                "status": r.status,
                "reason": r.reason,
                "since": r.since.isoformat(),
            }
            for r in rows
        ]
        click.echo(json.dumps(out, indent=2))
        return
    if not rows:
        click.echo("nothing needs attention")
    for r in rows:
        click.echo(f"{r.kind} {r.id} ({r.status}) since {r.since.isoformat()}: {r.reason}")


def _act(
    action: Callable[..., attention.Row], kind: str, row_id: int, by: str, note: str | None
) -> attention.Row:
    try:
        with _session() as session:
            return action(session, kind, row_id, actor=by, note=note)
    except (InvalidOperation, NotFound) as error:
        click.echo(f"midway attention: {error}", err=True)
        sys.exit(2)


@attention_group.command("retry")
@click.argument("kind", type=KIND)
@click.argument("row_id", type=int)
@click.option("--by", required=True, help="Who decides (recorded).")
@click.option("--note", default=None, help="Why (recorded).")
def retry(kind: str, row_id: int, by: str, note: str | None) -> None:
    """Clear the mark and enqueue the row's job again."""
    from jobs.enqueue import command_broker, send_after_commit
    from jobs.messages import ADVANCE_BATCH, ADVANCE_PAYMENT, ADVANCE_REFUND

    _act(attention.retry, kind, row_id, by, note)
    refs = {"payment": ADVANCE_PAYMENT, "refund": ADVANCE_REFUND, "payout_batch": ADVANCE_BATCH}
    with command_broker(_settings()) as broker:
        send_after_commit(broker, refs[kind], row_id)
    click.echo(f"{kind} {row_id}: retrying")


@attention_group.command("cancel")
@click.argument("kind", type=KIND)
@click.argument("row_id", type=int)
@click.option("--by", required=True, help="Who decides (recorded).")
@click.option("--note", required=True, help="Why, e.g. how it was settled (recorded).")
def cancel(kind: str, row_id: int, by: str, note: str) -> None:
    """Give the row up without calling Stripe."""
    row = _act(attention.cancel, kind, row_id, by, note)
    click.echo(f"{kind} {row_id}: {row.status}")
