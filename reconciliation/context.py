"""What a finding belongs to, so finance can act on it without searching: the charge,
PaymentIntent, our payment, its load, the customer and the carrier (names next to their
cus_/acct_ ids), the transfer a reversal undid, the charge a dispute is about.

This is the I/O edge after the pure core: it reads our tables and, when the run's source can
reach Stripe, retrieves the objects the balance transaction points at (a refund, a dispute, a
charge, transfers with their reversals). Whatever cannot be found is left out; a lookup that
fails never fails the run. The result is one more sentence on the explanation; the
fingerprint is the core's and does not change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from models import Carrier, Payment, Shipper
from models.money import format_minor
from models.parties import Load
from reconciliation.errors import StripeFetchFailed
from reconciliation.result import Discrepancy
from reconciliation.stripe_http import StripeHTTP
from reconciliation.stripe_source import PLATFORM

log = logging.getLogger("midway.reconciliation.context")

# Findings looked up per run, at most: context helps a person read a few dozen findings; a
# day with thousands has a bulk problem the counts already show.
MAX_LOOKUPS = 100
TRANSFER_PAGES = 3


def annotate(
    sessions: sessionmaker[Session],
    findings: list[Discrepancy],
    account: str,
    http: StripeHTTP | None,
) -> list[Discrepancy]:
    """The findings with a sentence naming what each belongs to, where something is found."""
    out = []
    with sessions() as session:
        for number, finding in enumerate(findings):
            extra = None
            if number < MAX_LOOKUPS:
                try:
                    extra = _context(session, finding, account, http)
                except StripeFetchFailed as error:
                    log.warning("context of %s: %s", finding.stripe_source, error)
            if extra:
                finding = dataclasses.replace(finding, explanation=f"{finding.explanation} {extra}")
            out.append(finding)
    return out


def _context(
    session: Session, finding: Discrepancy, account: str, http: StripeHTTP | None
) -> str | None:
    source = finding.stripe_source or ""
    if source.startswith("re_"):
        refund = _get(http, f"/v1/refunds/{source}", account)
        charge, intent = (refund or {}).get("charge"), (refund or {}).get("payment_intent")
        return _payment_sentence(session, "It refunds", charge, intent)
    if source.startswith("du_"):
        dispute = _get(http, f"/v1/disputes/{source}", account)
        if dispute is None:
            return None
        due = (dispute.get("evidence_details") or {}).get("due_by")
        amount = format_minor(int(dispute["amount"]), str(dispute["currency"]))
        sentence = _payment_sentence(
            session,
            f"Dispute {source} ({dispute.get('reason')}, {amount}, {dispute.get('status')}) is on",
            dispute.get("charge"),
            dispute.get("payment_intent"),
        )
        if due:
            when = dt.datetime.fromtimestamp(int(due), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            sentence = (sentence or f"Dispute {source}.")[:-1] + f"; evidence is due by {when}."
        return sentence
    if source.startswith(("ch_", "py_")) and finding.kind in (
        "missing_in_ledger",
        "amount_mismatch",
        "fee_mismatch",
        "probable_match",
    ):
        return _payment_sentence(session, "It is", source, None)
    if source.startswith(("pyr_", "trr_")):
        transfer = _transfer_reversed(http, source, account)
        if transfer is None:
            return None
        carrier = _carrier(session, str(transfer.get("destination")))
        return f"It reverses transfer {transfer['id']} to {carrier}."
    return None


def _get(http: StripeHTTP | None, path: str, account: str) -> dict[str, Any] | None:
    if http is None:
        return None
    return http.get_json(path, account=account if account != PLATFORM else None)


def _carrier(session: Session, account: str | None) -> str:
    if not account:
        return "an unknown account"
    name = session.scalar(select(Carrier.name).where(Carrier.stripe_account_id == account))
    return f"carrier {name} ({account})" if name else f"account {account} (no carrier of ours)"


def _payment_sentence(session: Session, lead: str, charge: Any, intent: Any) -> str | None:
    """'<lead> charge ch_…, PaymentIntent pi_…: our payment 42 for load L-1, customer Acme
    (cus_…), carrier Fast Freight (acct_…).'"""
    if not charge and not intent:
        return None
    ids = [f"charge {charge}" if charge else "", f"PaymentIntent {intent}" if intent else ""]
    text = f"{lead} {', '.join(i for i in ids if i)}"
    conditions = []
    if charge:
        conditions.append(Payment.stripe_charge_id == str(charge))
    if intent:
        conditions.append(Payment.stripe_payment_intent_id == str(intent))
    row = session.execute(
        select(
            Payment.id,
            Load.external_id,
            Shipper.name,
            Shipper.stripe_customer_id,
            Carrier.name,
            Carrier.stripe_account_id,
        )
        .join(Load, Load.id == Payment.load_id)
        .join(Shipper, Shipper.id == Payment.shipper_id)
        .join(Carrier, Carrier.id == Payment.carrier_id)
        .where(or_(*conditions))
        .limit(1)
    ).first()
    if row is None:
        return f"{text}: not a payment of ours."
    payment_id, load, customer, customer_id, carrier, carrier_account = row
    return (
        f"{text}: our payment {payment_id} for load {load}, customer {customer}"
        f"{f' ({customer_id})' if customer_id else ''}, carrier {carrier}"
        f"{f' ({carrier_account})' if carrier_account else ''}."
    )


def _transfer_reversed(http: StripeHTTP | None, source: str, account: str) -> dict[str, Any] | None:
    """The platform's transfer whose reversal is `source` (trr_ on the platform, or pyr_, the
    refund of the transfer's payment on the connected account)."""
    if http is None:
        return None
    params: dict[str, Any] = {"limit": 100}
    if account != PLATFORM:
        params["destination"] = account
    cursor = None
    for _ in range(TRANSFER_PAGES):
        page = http.get_json("/v1/transfers", {**params, "starting_after": cursor})
        for transfer in page.get("data") or []:
            for reversal in (transfer.get("reversals") or {}).get("data") or []:
                if source in (reversal.get("id"), reversal.get("destination_payment_refund")):
                    return dict(transfer)
        if not page.get("has_more") or not page.get("data"):
            return None
        cursor = page["data"][-1]["id"]
    return None
