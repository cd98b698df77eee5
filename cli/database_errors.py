"""One line instead of a traceback when the configured PostgreSQL cannot be used (unreachable,
no such database, no schema yet): which DATABASE_URL, what is wrong, and what to do about it."""

from __future__ import annotations

import click


class DatabaseUnavailable(click.ClickException):
    exit_code = 2


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def explain(error: BaseException) -> DatabaseUnavailable | None:
    """The one-line answer for a connection failure to DATABASE_URL's server; None for any other
    error (which keeps its traceback)."""
    import psycopg

    from config import EmbeddedDefaultMissing, load_settings

    missing = next((e for e in _causes(error) if isinstance(e, EmbeddedDefaultMissing)), None)
    if missing is not None:
        return DatabaseUnavailable(str(missing))
    causes = _causes(error)
    if any(isinstance(e, psycopg.errors.UndefinedTable) for e in causes):
        return DatabaseUnavailable(
            "the database named by DATABASE_URL has no Midway tables yet (or an older schema):"
            " run `midway db upgrade`"
        )
    failure = next((e for e in causes if isinstance(e, psycopg.OperationalError)), None)
    if failure is None:
        return None
    try:
        url = load_settings().database_url
    except ValueError:  # a bad setting: the original error says more than we could
        return None
    if url is None:
        where = "the embedded PostgreSQL (DATABASE_URL is not set)"
        name, host, port, user = "", "", "", ""
    else:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        name, host = parsed.database or "", parsed.host or "localhost"
        port, user = str(parsed.port or 5432), parsed.username or ""
        where = f"DATABASE_URL ({parsed.render_as_string(hide_password=True)})"
    text = str(failure).strip().splitlines()[0] if str(failure).strip() else type(failure).__name__
    if "does not exist" in text and name and f'"{name}"' in text:
        user_flag = f" -U {user}" if user else ""
        return DatabaseUnavailable(
            f'database "{name}" does not exist on {host}:{port}, named by {where}; create it'
            f" with `createdb -h {host} -p {port}{user_flag} {name}` (then `midway db upgrade`),"
            " or point DATABASE_URL at an existing database"
        )
    return DatabaseUnavailable(
        f"cannot use the PostgreSQL named by {where}: {text}; check that the server runs and"
        " that DATABASE_URL's host, port, user and password are right"
    )
