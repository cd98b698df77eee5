"""Reporting: report types, report runs and the files they produce.

A report run is answered `pending`; its CSV is rendered from the balance transactions at
creation and it turns `succeeded` on the next tick (a retrieve a moment later sees it), then
`reporting.report_run.succeeded` is sent, as at Stripe.
"""

from __future__ import annotations

from typing import Any

from .. import ids, reports
from ..collection import Obj
from ..config import DAY
from ..errors import InvalidRequest, ResourceMissing
from ..events import emit
from ..params import Params
from ..router import Ctx, Raw, list_page, route
from ..store import AccountState, Store, on_due

_PARAM_KEYS = {"interval_start", "interval_end", "timezone", "currency", "reporting_category",
               "columns", "connected_account", "decimal_separator", "payout"}


def _available_window(store: Store, acct: AccountState) -> tuple[int, int]:
    coll = acct.collection("balance_transaction")
    first = coll.keys[0][0] if coll.keys else store.now() - DAY
    return first - first % DAY, store.now()


def _report_type(store: Store, acct: AccountState, name: str) -> Obj:
    start, end = _available_window(store, acct)
    return {
        "id": name, "object": "reporting.report_type", "data_available_start": start,
        "data_available_end": end, "default_columns": list(reports.DEFAULT_COLUMNS),
        "livemode": False, "name": name, "updated": end, "version": 3,
    }


@route("GET", "/v1/reporting/report_types/{name}")
def retrieve_type(ctx: Ctx, p: Params, name: str) -> Obj:
    p.done()
    if name not in reports.REPORT_TYPES:
        raise ResourceMissing("report type", name)
    return _report_type(ctx.store, ctx.acct, name)


@route("GET", "/v1/reporting/report_types")
def list_types(ctx: Ctx, p: Params) -> Obj:
    p.done()
    data = [_report_type(ctx.store, ctx.acct, n) for n in reports.REPORT_TYPES]
    return {"object": "list", "data": data, "has_more": False,
            "url": "/v1/reporting/report_types"}


def _parse_parameters(raw: Any, report_type: str) -> dict[str, Any]:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InvalidRequest("Invalid parameters", param="parameters")
    for key in raw:
        if key not in _PARAM_KEYS:
            raise InvalidRequest(f"Received unknown parameter: parameters[{key}]",
                                 code="parameter_unknown", param=f"parameters[{key}]")
    sub = Params(raw)
    out: dict[str, Any] = {
        "interval_start": sub.int("interval_start", required=True, minimum=0),
        "interval_end": sub.int("interval_end", required=True, minimum=0),
    }
    for key in ("timezone", "reporting_category", "connected_account", "decimal_separator"):
        value = sub.str(key)
        if value:
            out[key] = value
    if raw.get("currency"):
        out["currency"] = sub.currency()
    columns = sub.list("columns")
    if columns:
        reports.check_columns(columns, report_type)
        out["columns"] = columns
    if out["interval_end"] <= out["interval_start"]:
        raise InvalidRequest("interval_end must be after interval_start",
                             param="parameters[interval_end]")
    reports.zone(out.get("timezone"))
    return out


@route("POST", "/v1/reporting/report_runs")
def create_run(ctx: Ctx, p: Params) -> Obj:
    report_type = p.str("report_type", required=True)
    raw = p.dict("parameters")
    p.done()
    if report_type not in reports.REPORT_TYPES:
        raise InvalidRequest(f"No such report type: {report_type}", param="report_type")
    params = _parse_parameters(raw, report_type)
    _, available_end = _available_window(ctx.store, ctx.acct)
    if params["interval_end"] > available_end:
        raise InvalidRequest(
            f"parameters[interval_end] must be at or before the report type's "
            f"data_available_end ({available_end}).",
            param="parameters[interval_end]",
        )
    if report_type == reports.CONNECTED_ITEMIZED:
        only = params.get("connected_account")
        accounts = [a for a in ctx.store.accounts.values()
                    if not a.is_platform and (not only or a.id == only)]
    else:
        accounts = [ctx.acct]
    body = reports.render(ctx.store, accounts, report_type, params)
    run_id = ids.new_id("frr")
    run: Obj = {
        "id": run_id, "object": "reporting.report_run", "created": ctx.store.now(),
        "error": None, "livemode": False, "parameters": params, "report_type": report_type,
        "result": None, "status": "pending", "succeeded_at": None,
    }
    ctx.store.add(ctx.acct, run)
    info = ctx.store.internal(ctx.acct, run_id)
    info["body"] = body
    info["base_url"] = ctx.base_url
    ctx.store.schedule(ctx.store.now(), "report_run.finish", ctx.acct, run_id)
    return run


@on_due("report_run.finish")
def _finish(store: Store, acct: AccountState, run_id: str) -> None:
    run = acct.objects.get(run_id)
    if run is None or run["status"] != "pending":
        return
    info = store.internal(acct, run_id)
    body: bytes = info.pop("body")
    now = store.now()
    file_id = ids.new_id("file")
    file: Obj = {
        "id": file_id, "object": "file", "created": now, "expires_at": now + 365 * DAY,
        "filename": f"{run_id}.csv",
        "links": {"object": "list", "data": [], "has_more": False,
                  "url": f"/v1/file_links?file={file_id}"},
        "purpose": "finance_report_run", "size": len(body),
        "title": f"FinanceReportRun {run_id}", "type": "csv",
        "url": f"{info['base_url']}/v1/files/{file_id}/contents",
    }
    store.add(acct, file)
    store.internal(acct, file_id)["contents"] = body
    run.update({"status": "succeeded", "succeeded_at": now, "result": file})
    emit(store, acct, "reporting.report_run.succeeded", run)


@route("GET", "/v1/reporting/report_runs/{run_id}")
def retrieve_run(ctx: Ctx, p: Params, run_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "reporting.report_run", run_id)


@route("GET", "/v1/reporting/report_runs")
def list_runs(ctx: Ctx, p: Params) -> Obj:
    return list_page(ctx, p, "reporting.report_run", "/v1/reporting/report_runs")


@route("GET", "/v1/files/{file_id}")
def retrieve_file(ctx: Ctx, p: Params, file_id: str) -> Obj:
    p.done()
    return ctx.store.get(ctx.acct, "file", file_id)


@route("GET", "/v1/files")
def list_files(ctx: Ctx, p: Params) -> Obj:
    purpose = p.str("purpose")
    where = (lambda f: f["purpose"] == purpose) if purpose else None
    return list_page(ctx, p, "file", "/v1/files", where)


@route("GET", "/v1/files/{file_id}/contents")
def file_contents(ctx: Ctx, p: Params, file_id: str) -> Raw:
    p.done()
    ctx.store.get(ctx.acct, "file", file_id)
    body = ctx.store.internal(ctx.acct, file_id)["contents"]
    return Raw(body, "text/csv; charset=utf-8")
