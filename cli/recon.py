"""`midway recon …`: reconcile a day of Stripe against the ledger, show and export runs.

    midway recon run --date 2026-03-10 [--account acct_…] [--source api|report|cache|FILE.csv]
                     [--timezone Europe/Paris] [--format table|json] [--out PATH]
    midway recon show --run-id 12 [--format table|json]
    midway recon export --run-id 12 --out report.xlsx   (.json / .csv / .xlsx)

Exit codes of `run`: 0 the day is clean (or every discrepancy is resolved: status `resolved`),
1 discrepancies are open, 2 the run failed (bad
input such as a future day, an unknown account or a malformed report; Stripe or the database
unreachable).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from cli.recon_output import StderrProgress, render_table
from config import Settings, SettingsError, load_settings
from jobs.runtime import stripe_guard
from models.db import database_url, make_engine, make_session_factory
from models.reconciliation import RunStatus
from reconciliation import exports
from reconciliation.errors import ReconciliationError
from reconciliation.progress import progress_for
from reconciliation.service import RunOutcome, run_day
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import (
    ApiSource,
    CacheSource,
    ReportFileSource,
    ReportRunSource,
    StripeSource,
)

EXIT_CLEAN, EXIT_DISCREPANCIES, EXIT_FAILED = 0, 1, 2


class RunFailed(click.ClickException):
    exit_code = EXIT_FAILED


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise RunFailed(str(exc)) from exc


@contextmanager
def _sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url(settings))
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _http(settings: Settings) -> StripeHTTP | None:
    if not settings.stripe_api_base:
        return None
    return StripeHTTP(
        settings.stripe_api_base,
        settings.stripe_api_key,
        timeout=(settings.stripe_connect_timeout_s, settings.stripe_read_timeout_s),
        # A run by hand shares the workers' Stripe budget and breaker, on the background lane
        # so that it cannot starve money-moving jobs.
        guard=stripe_guard(settings, lane="background"),
    )


def _source(settings: Settings, source: str) -> StripeSource:
    http = _http(settings)
    if source in ("api", "report"):
        if http is None:
            raise RunFailed(
                f"--source {source} needs Stripe: set STRIPE_API_BASE (https://api.stripe.com, "
                "or the address of a running stripe_sim), or reconcile a downloaded itemized "
                "report with --source FILE.csv"
            )
        return ApiSource(http) if source == "api" else ReportRunSource(http)
    if source == "cache":
        return CacheSource()
    path = Path(source)
    if not path.is_file():
        raise RunFailed(f"--source {source!r}: expected api, report, cache or an existing CSV file")
    # With Stripe reachable, a posting's balance transaction outside the file is looked up.
    return ReportFileSource(path, http)


def _stored(run_id: int) -> dict[str, Any]:
    with _sessions(_settings()) as sessions, sessions() as session:
        try:
            return exports.run_report(session, run_id)
        except ReconciliationError as exc:
            raise RunFailed(str(exc)) from exc


def _emit(report: dict[str, Any], fmt: str, out: Path | None) -> None:
    if out is not None and out.suffix.lower() in (".csv", ".xlsx", ".json"):
        written = exports.write(report, out)
        click.echo(f"report written to {out} ({written})", err=True)
        if fmt == "table":
            click.echo(render_table(report))
        return
    text = exports.to_json(report) if fmt == "json" else render_table(report)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        click.echo(f"report written to {out}", err=True)
    else:
        click.echo(text, nl=False)


@click.group()
def recon() -> None:
    """Reconciliation of Stripe's balance against the ledger."""


@recon.command("run")
@click.option("--date", "day", required=True, help="The day to reconcile, YYYY-MM-DD.")
@click.option(
    "--account",
    default="platform",
    show_default=True,
    help="'platform' or a carrier's connected account (acct_…).",
)
@click.option(
    "--source",
    default="api",
    show_default=True,
    help="api, report (a Stripe report run), cache (local rows only) or FILE.csv.",
)
@click.option("--timezone", "tz", default=None, help="IANA zone of the day [RECON_TIMEZONE].")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report here (.json, .csv or .xlsx by suffix).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run_command(
    day: str, account: str, source: str, tz: str | None, fmt: str, out: Path | None, quiet: bool
) -> None:
    """Reconcile one day for one account; exit 0 clean, 1 discrepancies, 2 failed."""
    settings = _settings()
    stripe_source = _source(settings, source)
    with _sessions(settings) as sessions:
        outcome, report = _run(sessions, stripe_source, day, account, tz, settings, quiet)
    _emit(report, fmt, out)
    # A day whose discrepancies finance has all resolved needs nothing more: exit 0 too.
    sys.exit(
        EXIT_CLEAN
        if outcome.status in (RunStatus.CLEAN, RunStatus.RESOLVED)
        else EXIT_DISCREPANCIES
    )


def _run(
    sessions: sessionmaker[Session],
    stripe_source: StripeSource,
    day: str,
    account: str,
    tz: str | None,
    settings: Settings,
    quiet: bool,
) -> tuple[RunOutcome, dict[str, Any]]:
    try:
        outcome = run_day(
            sessions,
            stripe_source,
            day,
            account,
            tz or settings.recon_timezone,
            alert_webhook_url=settings.alert_webhook_url,
            progress=progress_for(sys.stderr, quiet=quiet, on_terminal=StderrProgress),
        )
        with sessions() as session:
            report = exports.run_report(session, outcome.run_id)
    except (ReconciliationError, ValueError) as exc:
        raise RunFailed(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the database or the network: still exit 2
        raise RunFailed(f"{type(exc).__name__}: {exc}") from exc
    return outcome, report


@recon.command("show")
@click.option("--run-id", type=int, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def show_command(run_id: int, fmt: str) -> None:
    """Print a stored run."""
    report = _stored(run_id)
    _emit(report, fmt, None)


@recon.command("export")
@click.option("--run-id", type=int, required=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="File to write: .json, .csv or .xlsx.",
)
def export_command(run_id: int, out: Path) -> None:
    """Export a stored run as JSON, CSV or XLSX."""
    report = _stored(run_id)
    try:
        fmt = exports.write(report, out)
    except ValueError as exc:
        raise RunFailed(str(exc)) from exc
    click.echo(f"run {run_id} written to {out} ({fmt})")
