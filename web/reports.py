"""The finance pages: every day's reconciliation, its discrepancies, and working them.

Server-rendered (Jinja), readable without JavaScript: filters and sorting are query
parameters, actions are forms (CSRF-checked, see session_auth). Finance and admin only.

- GET  /reports                         runs, newest first; yesterday at a glance; 30-day
                                        chart; unresolved discrepancies by age
- GET  /reports/<date>?account=…        the day: totals per currency, discrepancies
                                        (filter kind/currency/status, sort), trail
- GET  /reports/<date>/download.<fmt>   csv (?part=totals for the totals) / xlsx / json of the
                                        day's current run, or html: a static copy of the page
- POST /reports/<date>/rerun            enqueue a re-run of the day for the account
- GET  /reports/discrepancies/<id>      one discrepancy, its history, what can be done
- POST /reports/discrepancies/<id>/<action>  acknowledge, resolve, reopen, accept
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import func, nulls_last, select
from sqlalchemy.orm import Session

from jobs.enqueue import send_after_commit
from jobs.messages import RECONCILE_DAY
from models import Discrepancy, ReconciliationRun, ScheduledRun
from models.db import transaction
from models.reconciliation import DISCREPANCY_KINDS, DISCREPANCY_STATUSES, RUN_STATUSES
from payments import disputes, payout_batching
from reconciliation import casework, exports, overview, runs
from reconciliation.errors import InvalidInput
from reconciliation.window import day_to_reconcile
from web import charts
from web.context import state
from web.pages import PageError, money, page_number, query_with
from web.session_auth import User, current_user, signed_in

bp = Blueprint("reports", __name__)

PAGE_SIZE = 50
MAX_ROWS = 500
DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SORTS: dict[str, Any] = {
    "occurred_at": Discrepancy.occurred_at,
    "kind": Discrepancy.kind,
    "currency": Discrepancy.currency,
    "stripe_amount": Discrepancy.stripe_amount,
    "ledger_amount": Discrepancy.ledger_amount,
    "difference": Discrepancy.difference,
    "status": Discrepancy.status,
}
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(state().settings.recon_timezone)).date()


def _yesterday_due() -> bool:
    """Whether the scheduler should have reconciled yesterday by now (RECON_AT has passed
    today in RECON_TIMEZONE)."""
    settings = state().settings
    now = dt.datetime.now(ZoneInfo(settings.recon_timezone))
    hour, minute = (int(part) for part in settings.recon_at.split(":"))
    return now.time() >= dt.time(hour, minute)


def parse_day(text: str) -> dt.date:
    if DAY_PATTERN.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise PageError(404, "No such day", f"{text!r} is not a date: use YYYY-MM-DD.")


def _choice(name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


def _actor(user: User) -> casework.Actor:
    return casework.Actor(user.name, user.prefix, user.key_id)


@bp.get("/")
def home() -> Response:
    return redirect(url_for("reports.index"), 302)  # type: ignore[return-value]


@bp.get("/reports")
@signed_in
def index() -> str:
    today = _today()
    with transaction(state().sessions) as session:
        accounts = overview.all_accounts(session)
        account = _choice("account", accounts)
        status = _choice("status", RUN_STATUSES)
        page = page_number(request.args.get("page"))
        rows = overview.latest_runs(
            session,
            account=account,
            status=status,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        unresolved = _unresolved_counts(session, [run.id for run in rows])
        yesterday = today - dt.timedelta(days=1)
        glance = overview.latest_runs(session, since=yesterday, until=yesterday)
        series = overview.daily_series(session, today, 30)
        ages = overview.unresolved_by_age(session, today)
        open_disputes = disputes.open_disputes(session)
        nightly = session.scalars(
            select(ScheduledRun).where(
                ScheduledRun.job == "nightly_reconciliation",
                ScheduledRun.period == yesterday.isoformat(),
            )
        ).first()
        payouts_attention = payout_batching.needing_attention(
            session, since=today - dt.timedelta(days=30)
        )
        covered = (nightly.detail or {}).get("covered", []) if nightly is not None else []
        names = exports.party_names(
            session,
            {
                *accounts,
                *(run.account for run in rows),
                *(run.account for run in glance),
                *covered,
            },
        )
    count_chart = charts.bar_chart(
        [charts.Bar(p.day.isoformat(), p.discrepancies) for p in series],
        title="Discrepancies per day, last 30 days",
    )
    currencies = sorted({c for p in series for c in p.net_difference})
    net_charts = [
        (
            currency,
            charts.bar_chart(
                [charts.Bar(p.day.isoformat(), p.net_difference.get(currency, 0)) for p in series],
                title=f"Net difference per day in {currency.upper()} (Stripe − ledger)",
                fmt=_formatter(currency),
            ),
        )
        for currency in currencies
    ]
    return render_template(
        "reports_list.html",
        runs=rows[:PAGE_SIZE],
        has_more=len(rows) > PAGE_SIZE,
        page=page,
        unresolved=unresolved,
        accounts=accounts,
        account=account,
        status=status,
        statuses=RUN_STATUSES,
        yesterday=yesterday,
        glance=glance,
        count_chart=count_chart,
        net_charts=net_charts,
        ages=ages,
        age_total=sum(a.total for a in ages),
        net_differences=overview.net_differences,
        query_with=query_with,
        names=names,
        payouts_attention=payouts_attention,
        open_disputes=open_disputes,
        nightly_detail=(nightly.detail or {}) if nightly is not None else None,
        yesterday_due=_yesterday_due(),
        recon_at=state().settings.recon_at,
        recon_timezone=state().settings.recon_timezone,
    )


def _formatter(currency: str) -> Callable[[int], str]:
    return lambda amount: money(amount, currency)


def _unresolved_counts(session: Session, run_ids: list[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    rows = session.execute(
        select(Discrepancy.run_id, func.count())
        .where(Discrepancy.run_id.in_(run_ids), Discrepancy.status.in_(overview.UNRESOLVED))
        .group_by(Discrepancy.run_id)
    )
    return {run_id: int(count) for run_id, count in rows}


def _day_and_account(session: Session, day_text: str) -> tuple[dt.date, str, list[str]]:
    day = parse_day(day_text)
    account = request.values.get("account") or runs.PLATFORM
    accounts = overview.accounts_of_day(session, day)
    if not accounts:
        raise PageError(404, "No report for that day", f"{day} has not been reconciled.")
    if account not in accounts:
        raise PageError(
            404,
            "No report for that account",
            f"{day} has no reconciliation for account {account!r}; it has: " + ", ".join(accounts),
        )
    return day, account, accounts


@bp.get("/reports/<day_text>")
@signed_in
def day_report(day_text: str) -> str:
    with transaction(state().sessions) as session:
        return _render_day(session, day_text, static_copy=False)


def _render_day(session: Session, day_text: str, *, static_copy: bool) -> str:
    """The day page; as a static copy (a download) with every discrepancy and no controls."""
    kind = None if static_copy else _choice("kind", DISCREPANCY_KINDS)
    status = None if static_copy else _choice("status", DISCREPANCY_STATUSES)
    sort = (None if static_copy else _choice("sort", list(SORTS))) or "occurred_at"
    descending = not static_copy and request.args.get("dir") == "desc"
    limit = None if static_copy else MAX_ROWS
    day, account, accounts = _day_and_account(session, day_text)
    run = overview.current_run(session, day, account)
    attempt = overview.latest_attempt(session, day, account)
    currency = None
    rows: list[Discrepancy] = []
    facets: dict[str, dict[str, int]] = {"kind": {}, "currency": {}, "status": {}}
    shown = 0
    if run is not None:
        facets = _facets(session, run.id)
        currency = None if static_copy else _choice("currency", list(facets["currency"]))
        query = select(Discrepancy).where(Discrepancy.run_id == run.id)
        for name, value in (("kind", kind), ("currency", currency), ("status", status)):
            if value is not None:
                query = query.where(getattr(Discrepancy, name) == value)
        shown = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        column = SORTS[sort]
        order = nulls_last(column.desc() if descending else column.asc())
        rows = list(session.scalars(query.order_by(order, Discrepancy.id).limit(limit)))
    trail = casework.day_actions(session, day, account)
    last = casework.last_actions(session, day, account)
    pending = None if static_copy else _pending_rerun(trail, attempt)
    return render_template(
        "report_day.html",
        day=day,
        account=account,
        accounts=accounts,
        names=exports.party_names(session, set(accounts)),
        run=run,
        attempt=attempt if attempt is not None and attempt is not run else None,
        rows=rows,
        shown=shown,
        max_rows=limit or shown,
        facets=facets,
        filters={"kind": kind, "currency": currency, "status": status},
        sort=sort,
        descending=descending,
        trail=trail if static_copy else trail[:25],
        last=last,
        pending=pending,
        bookable=casework.is_bookable,
        query_with=query_with,
        static_copy=static_copy,
    )


def _facets(session: Session, run_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in ("kind", "currency", "status"):
        column = getattr(Discrepancy, name)
        rows = session.execute(
            select(column, func.count())
            .where(Discrepancy.run_id == run_id)
            .group_by(column)
            .order_by(column)
        )
        out[name] = {value: int(count) for value, count in rows}
    return out


def _pending_rerun(trail: list[Any], attempt: ReconciliationRun | None) -> Any:
    """The latest re-run request newer than the newest run of the day, if any."""
    for entry in trail:
        if entry.action == "rerun_requested":
            if attempt is None or entry.at > attempt.started_at:
                return entry
            return None
    return None


@bp.get("/reports/<day_text>/download.<fmt>")
@signed_in
def download(day_text: str, fmt: str) -> Response:
    if fmt not in DOWNLOADS:
        raise PageError(404, "Unknown format", f"Downloads are {', '.join(DOWNLOADS)}.")
    part = request.args.get("part", "discrepancies")
    if fmt == "csv" and part not in ("discrepancies", "totals"):
        raise PageError(404, "Unknown part", "A CSV download is part=discrepancies or totals.")
    with transaction(state().sessions) as session:
        day, account, _ = _day_and_account(session, day_text)
        run = overview.current_run(session, day, account)
        if run is None:
            raise PageError(404, "No finished run", f"{day} ({account}) has no finished run yet.")
        report = exports.run_report(session, run.id)
        static_page = _render_day(session, day_text, static_copy=True) if fmt == "html" else ""
    body: str | bytes
    if fmt == "html":
        body = static_page
    elif fmt == "csv":
        body = exports.to_csv(report, part)
    elif fmt == "xlsx":
        body = exports.to_xlsx(report)
    else:
        body = exports.to_json(report)
    suffix = "-totals" if fmt == "csv" and part == "totals" else ""
    name = f"midway-reconciliation-{day}-{account}{suffix}.{fmt}"
    return Response(
        body,
        mimetype=DOWNLOADS[fmt].split(";")[0],
        headers={
            "Content-Type": DOWNLOADS[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@bp.post("/reports/<day_text>/rerun")
@signed_in
def rerun(day_text: str) -> Response:
    user = current_user()
    assert user is not None
    with transaction(state().sessions) as session:
        day, account, _ = _day_and_account(session, day_text)
        attempt = overview.latest_attempt(session, day, account)
        tz = attempt.timezone if attempt is not None else state().settings.recon_timezone
        try:
            runs.check_account(session, account)
            day_to_reconcile(day, tz)
        except InvalidInput as refused:
            raise PageError(422, "Cannot re-run", str(refused)) from None
        casework.request_rerun(session, day, account, _actor(user))
    if send_after_commit(state().broker, RECONCILE_DAY, day.isoformat(), account, tz):
        flash(f"Re-run of {day} ({account}) queued; this page refreshes until it is done.")
    else:
        flash(f"Could not queue the re-run of {day} ({account}): the queue is unreachable.")
    target = request.form.get("next") or ""
    if not target.startswith(f"/reports/{day.isoformat()}?"):
        target = url_for("reports.day_report", day_text=day.isoformat(), account=account)
    return redirect(target, 303)  # type: ignore[return-value]
