"""Helpers for the reports tests: a reconciled day with planted discrepancies, and a test client
that behaves like a browser (reads the CSRF token from the page it was served)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from recon_world import World, unix

from reconciliation.service import RunOutcome, run_day
from reconciliation.stripe_source import ApiSource

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def yesterday() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


@dataclass
class ReportDay:
    day: str
    clean_day: str
    outcome: RunOutcome
    oob_refund_txn: str  # missing_in_ledger: a refund made in the Stripe Dashboard
    dispute_charge: str  # unexpected_type: a dispute on this charge


def reconcile(world: World, day: str, account: str = "platform") -> RunOutcome:
    return run_day(world.sessions, ApiSource(world.http()), day, account, "UTC")


def make_report_day(world: World) -> ReportDay:
    """Yesterday (UTC): charges in usd, jpy (zero-decimal) and kwd (three decimals), a refund,
    then out of band: a Dashboard refund, a dispute, a posting Stripe never saw, and a fee
    Stripe changed. Reconciled once. The day before yesterday is reconciled clean."""
    day = yesterday().isoformat()
    clean_day = (yesterday() - dt.timedelta(days=1)).isoformat()
    world.sim("accounts/platform/settlement", {"currencies": ["usd", "jpy", "kwd"]})  # unconverted
    world.at(unix(f"{day} 09:00"))
    shipper = world.shipper()
    carrier, _ = world.carrier("usd")
    world.at(unix(f"{day} 10:00"))
    usd = world.charge(shipper, carrier, 1_234_56, "usd")
    jpy = world.charge(shipper, carrier, 15_000, "jpy")
    world.charge(shipper, carrier, 12_345, "kwd")
    world.at(unix(f"{day} 11:00"))
    world.refund(usd, 10_00)
    world.at(unix(f"{day} 13:00"))
    refund = world.sdk().v1.refunds.create(
        params={"payment_intent": usd.stripe_payment_intent_id, "amount": 5_00}
    )
    world.book(
        kind="charge",
        amount=42_00,
        occurred_at=unix(f"{day} 14:00"),
        txn="txn_ghost",
        source="ch_ghost",
    )
    jpy_txn = str(jpy.stripe_balance_transaction_id)
    fee = world.stripe_txn(jpy_txn).fee
    world.sim(f"balance_transactions/{jpy_txn}/fee", {"fee": fee + 50})
    world.at(unix(f"{day} 17:00"))
    world.sim(f"charges/{usd.stripe_charge_id}/dispute", {"reason": "fraudulent", "amount": 20_00})
    outcome = reconcile(world, day)
    reconcile(world, clean_day)
    return ReportDay(
        day, clean_day, outcome, str(refund.balance_transaction), str(usd.stripe_charge_id)
    )


class Browserless:
    """A Flask test client used like a browser: forms carry the token the page rendered."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kw: Any) -> Any:
        response = self.client.get(path, **kw)
        html = "text/html" in response.content_type
        found = CSRF.search(response.get_data(as_text=True)) if html else None
        if found:
            self.token = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, *, token: bool = True, **kw: Any
    ) -> Any:
        form = dict(data or {})
        if token:
            form.setdefault("csrf_token", self.token)
        return self.client.post(path, data=form, **kw)

    def sign_in(self, api_key: str) -> Any:
        self.get("/sign-in")
        response = self.post("/sign-in", {"api_key": api_key, "next": "/reports"})
        assert response.status_code == 303, response.get_data(as_text=True)
        self.get("/reports")
        return response
