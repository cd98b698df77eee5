"""Working one discrepancy: its page (figures, Stripe links, history) and the forms that
acknowledge, resolve (a note is required), reopen, or accept and book it.

The rules live in reconciliation/casework.py and payments/adjustments.py; this module turns
their refusals into the form, shown again with the reason (422 for a missing note, 409 for a
status that does not allow the action or a day re-run meanwhile).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from models import Discrepancy, ReconciliationRun, StripeBalanceTransaction
from models.db import transaction
from models.reconciliation import DISCREPANCY_TRANSITIONS
from payments import adjustments
from payments.errors import InvalidOperation
from reconciliation import casework, exports
from web.context import state
from web.pages import PageError
from web.session_auth import current_user, signed_in

bp = Blueprint("casework", __name__)

ACTIONS = ("acknowledge", "resolve", "reopen", "accept")
DONE = {
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "reopen": "Reopened",
    "accept": "Accepted and booked",
}


def _page(
    discrepancy_id: int, *, error: str | None = None, status: int = 200, **form: Any
) -> Response:
    with transaction(state().sessions) as session:
        discrepancy = session.get(Discrepancy, discrepancy_id)
        if discrepancy is None:
            raise PageError(
                404, "No such discrepancy", f"There is no discrepancy {discrepancy_id}."
            )
        run = session.get(ReconciliationRun, discrepancy.run_id)
        assert run is not None
        trail = casework.history(session, run.day, run.account, discrepancy.fingerprint)
        txn = None
        if casework.is_bookable(discrepancy):
            txn = session.get(StripeBalanceTransaction, discrepancy.stripe_balance_transaction)
        body = render_template(
            "discrepancy.html",
            d=discrepancy,
            run=run,
            trail=trail,
            txn=txn,
            bookable=casework.is_bookable(discrepancy) and txn is not None,
            transitions=DISCREPANCY_TRANSITIONS,
            error=error,
            form=form,
            back=_back(run),
            account_name=exports.party_names(session, {discrepancy.account or run.account}).get(
                discrepancy.account or run.account
            ),
        )
    return Response(body, status=status, mimetype="text/html")


def _back(run: ReconciliationRun) -> str:
    target = request.values.get("next")
    if target and target.startswith("/reports") and not target.startswith("//"):
        return target
    return url_for("reports.day_report", day_text=run.day.isoformat(), account=run.account)


@bp.get("/reports/discrepancies/<int:discrepancy_id>")
@signed_in
def discrepancy_page(discrepancy_id: int) -> Response:
    return _page(discrepancy_id)


@bp.post("/reports/discrepancies/<int:discrepancy_id>/<action>")
@signed_in
def act(discrepancy_id: int, action: str) -> Response:
    if action not in ACTIONS:
        raise PageError(404, "No such action", f"Actions are {', '.join(ACTIONS)}.")
    user = current_user()
    assert user is not None
    actor = casework.Actor(user.name, user.prefix, user.key_id)
    note = request.form.get("note", "")
    try:
        with transaction(state().sessions) as session:
            if action == "acknowledge":
                casework.acknowledge(session, discrepancy_id, actor, note)
            elif action == "resolve":
                casework.resolve(session, discrepancy_id, actor, note)
            elif action == "reopen":
                casework.reopen(session, discrepancy_id, actor, note)
            else:
                casework.accept_and_book(session, discrepancy_id, actor, note, adjustments.booker)
    except casework.DiscrepancyNotFound:
        raise PageError(
            404, "No such discrepancy", f"There is no discrepancy {discrepancy_id}."
        ) from None
    except (casework.NoteRequired, casework.InvalidNote) as refused:
        return _page(discrepancy_id, error=str(refused), status=422, action=action, note=note)
    except casework.RunSuperseded as refused:
        return _page(discrepancy_id, error=str(refused), status=409, current=refused.current_run_id)
    except (casework.CaseworkError, InvalidOperation) as refused:
        return _page(discrepancy_id, error=str(refused), status=409, action=action, note=note)
    flash(f"{DONE[action]} discrepancy {discrepancy_id}.")
    target = request.form.get("next") or ""
    if target.startswith("/reports") and not target.startswith("//"):
        return redirect(target, 303)  # type: ignore[return-value]
    return redirect(url_for("casework.discrepancy_page", discrepancy_id=discrepancy_id), 303)  # type: ignore[return-value]
