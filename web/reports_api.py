"""The reconciliation reports as JSON, for finance (and admin) keys; backend keys get 403.

- GET  /api/reconciliation/runs               the day/account runs, newest first (the latest
                                              not superseded per day and account)
- GET  /api/reconciliation/runs/<date>        the day's current run of an account (?account=,
                                              default platform) as the full report
- GET  /api/reconciliation/runs/<id>          any run by id (superseded ones too), the same
- POST /api/reconciliation/runs {date, account}  enqueue a (re-)run; 202

Amounts are integers in minor units, exactly as in the JSON download.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.orm import Session

from jobs.enqueue import send_after_commit
from jobs.messages import RECONCILE_DAY
from models import ReconciliationRun
from models.db import transaction
from models.reconciliation import RUN_STATUSES
from reconciliation import casework, exports, overview, runs
from reconciliation.errors import InvalidInput
from reconciliation.window import day_to_reconcile
from web.auth import RESOLVE, current_key, requires
from web.bodies import json_body, path_id, query_args
from web.context import state
from web.errors import ResourceNotFound, ValidationFailed
from web.idempotency import REPLAYED_HEADER, Accepted, run_post
from web.validation import Int, Str, obj

bp = Blueprint("reports_api", __name__)
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Reconciliation data is finance's: the permission finance and admin hold and backend lacks.
FINANCE = RESOLVE
DATE = Str(
    min_length=10,
    max_length=10,
    pattern=r"^\d{4}-\d{2}-\d{2}$",
    description="A calendar day, YYYY-MM-DD, in the reconciliation time zone.",
    error_code="invalid_date",
    hint="YYYY-MM-DD",
)
ACCOUNT = Str(
    max_length=255,
    pattern=r"^(platform|acct_[A-Za-z0-9]+)$",
    description="`platform` or a carrier's connected account (acct_…).",
    error_code="invalid_account",
    hint="platform or acct_…",
)
RUN_QUERY = obj(
    account=ACCOUNT,
    status=Str(enum=RUN_STATUSES),
    since=DATE,
    until=DATE,
    limit=Int(minimum=1, maximum=100, description="Page size (default 25)."),
    offset=Int(minimum=0, maximum=100_000, description="Rows to skip (default 0)."),
)
DAY_QUERY = obj(account=ACCOUNT)
RUN_CREATE = obj(required=("date",), date=DATE, account=ACCOUNT)


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{field} is not a calendar day", field=field, code="invalid_date"
        ) from None


def run_summary(run: ReconciliationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "object": "reconciliation_run",
        "date": run.day.isoformat(),
        "account": run.account,
        "timezone": run.timezone,
        "status": run.status,
        "counts": {
            "stripe_rows": run.stripe_rows,
            "ledger_rows": run.ledger_rows,
            "matched": run.matched,
            "discrepancies": run.discrepancy_count,
        },
        "net_difference": overview.net_differences(run),
        "totals": [dict(row) for row in run.totals or []],
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "superseded_by": run.superseded_by_id,
        "error": run.error,
        "links": {
            "self": f"/api/reconciliation/runs/{run.id}",
            "day": f"/api/reconciliation/runs/{run.day.isoformat()}?account={run.account}",
            "page": f"/reports/{run.day.isoformat()}?account={run.account}",
        },
    }


@bp.get("/api/reconciliation/runs")
@requires(FINANCE)
def list_runs() -> Response:
    args = query_args(RUN_QUERY)
    limit = args.get("limit", 25)
    with transaction(state().sessions) as session:
        rows = overview.latest_runs(
            session,
            account=args.get("account"),
            status=args.get("status"),
            since=_date(args["since"], "since") if "since" in args else None,
            until=_date(args["until"], "until") if "until" in args else None,
            limit=limit + 1,
            offset=args.get("offset", 0),
        )
        data = [run_summary(run) for run in rows[:limit]]
    return jsonify({"object": "list", "data": data, "has_more": len(rows) > limit})


def _report(session: Session, run: ReconciliationRun) -> dict[str, Any]:
    report = exports.run_report(session, run.id)
    report["object"] = "reconciliation_report"
    report["links"] = run_summary(run)["links"]
    return report


@bp.get("/api/reconciliation/runs/<string:ref>")
@requires(FINANCE)
def get_run(ref: str) -> Response:
    """`ref` is a run id (any run, superseded ones too) or a day (its current run)."""
    args = query_args(DAY_QUERY)
    with transaction(state().sessions) as session:
        if ref.isascii() and ref.isdigit() and len(ref) <= 19:
            if "account" in args:
                raise ValidationFailed("account applies to a day, not to a run id", field="account")
            run = session.get(ReconciliationRun, path_id(int(ref), "reconciliation run"))
            if run is None:
                raise ResourceNotFound(f"no reconciliation run {ref}")
            return jsonify(_report(session, run))
        account = args.get("account", runs.PLATFORM)
        try:
            date = dt.date.fromisoformat(ref) if DAY_RE.match(ref) else None
        except ValueError:
            date = None
        if date is None:
            raise ResourceNotFound(f"{ref!r} is neither a run id nor a day (YYYY-MM-DD)")
        run = overview.current_run(session, date, account) or overview.latest_attempt(
            session, date, account
        )
        if run is None:
            raise ResourceNotFound(f"no reconciliation of {date} for {account}")
        return jsonify(_report(session, run))


@bp.post("/api/reconciliation/runs")
@requires(FINANCE)
def create_run() -> Response:
    fields, payload = json_body(RUN_CREATE)
    date = _date(fields["date"], "date")
    account = fields.get("account", runs.PLATFORM)
    tz = state().settings.recon_timezone
    key = current_key()

    def work(session: Session) -> Accepted:
        try:
            runs.check_account(session, account)
        except InvalidInput as refused:
            raise ValidationFailed(str(refused), field="account", code="unknown_account") from None
        try:
            day_to_reconcile(date, tz)
        except (InvalidInput, OverflowError) as refused:  # OverflowError: 9999-12-31
            raise ValidationFailed(str(refused), field="date", code="future_day") from None
        actor = casework.Actor(key.name, key.prefix, key.id)
        entry = casework.request_rerun(session, date, account, actor)
        body = {
            "object": "reconciliation_request",
            "id": entry.id,
            "date": date.isoformat(),
            "account": account,
            "timezone": tz,
            "status": "queued",
            "links": {
                "day": f"/api/reconciliation/runs/{date.isoformat()}?account={account}",
                "page": f"/reports/{date.isoformat()}?account={account}",
            },
        }
        return Accepted(202, body)

    response = run_post(payload, work)
    if response.status_code == 202 and response.headers.get(REPLAYED_HEADER) != "true":
        send_after_commit(state().broker, RECONCILE_DAY, date.isoformat(), account, tz)
    return response


__all__ = ["DAY_QUERY", "RUN_CREATE", "RUN_QUERY", "bp"]
