"""Real-world faults the demo plants, and what each must lead to.

A fault either leaves a trace finance must see — a discrepancy of one exact kind on one day
and account — or must leave none, because the system absorbs it (a retried job, a webhook the
sweeper recovers). The demo checks both: every expected discrepancy is found, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests
from sqlalchemy import select

from demo.marketplace import Marketplace, at
from models import Payment, PayoutBatch, Posting, WebhookEvent
from models.db import transaction
from models.payments import PayoutBatchStatus
from payments import ledger
from payments.ledger import StripeRefs


@dataclass
class Fault:
    name: str
    description: str
    # The discrepancy it must produce, or None when the system must absorb it.
    expected_kind: str | None
    plant: Callable[[Marketplace, Fault], Any] = field(repr=False)
    # "day": during a day's trading; "night": before that night's scheduler jobs;
    # "after_batching": right after that night's payout batch was created.
    when: str
    day: date = date.min  # set when planned
    account: str = "platform"
    planted: bool = False
    detail: str = ""
    check: Callable[[], bool] | None = field(default=None, repr=False)

    def absorbed(self) -> bool:
        return self.check() if self.check is not None else True


def _succeeded_payment(market: Marketplace, day: date, currency: str = "usd") -> Payment:
    with transaction(market.stack.sessions) as session:
        for row in market.payments:
            if row["day"] != day or row["currency"] != currency:
                continue
            payment = session.get(Payment, row["id"])
            if (
                payment is not None
                and payment.status == "succeeded"
                and payment.amount_refunded == 0
            ):
                return payment
    raise RuntimeError(f"no succeeded {currency} payment on {day}")


def charge_job_dies_after_stripe_succeeded(market: Marketplace, fault: Fault) -> None:
    """Stripe creates the PaymentIntent, then the answer is lost: the job must charge once."""
    market.add_fault(
        {"commit_then_fail": 1.0, "path": "/v1/payment_intents", "method": "POST", "next": 1}
    )
    [payment_id] = market.pay_for_loads(fault.day, 1, method="pm_card_bypassPending")
    market.stack.drain()

    def charged_once() -> bool:
        mine = [
            pi
            for pi in all_pages(market, "/v1/payment_intents")
            if pi["metadata"].get("payment_id") == str(payment_id)
        ]
        with transaction(market.stack.sessions) as session:
            payment = session.get(Payment, payment_id)
            return len(mine) == 1 and payment is not None and payment.status == "succeeded"

    fault.detail = f"payment {payment_id}"
    fault.check = charged_once


def stripe_rate_limits_and_errors(market: Marketplace, fault: Fault) -> list[int]:
    """429s and 500s on 5% of requests while the day's loads are paid: retried, not failed."""
    market.add_fault({"rate_limit_429": 0.05, "error_500": 0.05, "path": "/v1/"})
    ids = market.pay_for_loads(fault.day, 40)
    market.stack.drain()
    market.remove_faults("rate_limit_429", "error_500")

    def all_final() -> bool:
        with transaction(market.stack.sessions) as session:
            rows = session.scalars(select(Payment.recovery_point).where(Payment.id.in_(ids)))
            return all(point == "finished" for point in rows)

    fault.detail = f"{len(ids)} payments under fire"
    fault.check = all_final
    return ids


def refund_made_at_stripe(market: Marketplace, fault: Fault) -> None:
    payment = _succeeded_payment(market, fault.day)
    market.set_clock(at(fault.day, 20))
    refund = market.stripe(
        "post",
        "/v1/refunds",
        payment_intent=payment.stripe_payment_intent_id,
        amount=payment.amount // 4,
    )
    fault.detail = f"{refund['id']} on {payment.stripe_payment_intent_id}"


def stripe_fee_changed(market: Marketplace, fault: Fault) -> None:
    payment = _succeeded_payment(market, fault.day)
    txn = payment.stripe_balance_transaction_id
    current = market.stripe("get", f"/v1/balance_transactions/{txn}")["fee"]
    market.sim(f"balance_transactions/{txn}/fee", {"fee": current + 45})
    fault.detail = f"{txn}: fee {current} → {current + 45}"


def ledger_posting_duplicated(market: Marketplace, fault: Fault) -> None:
    """A bug books a charge twice: the ledger's own invariant holds, reconciliation sees it."""
    payment = _succeeded_payment(market, fault.day, "jpy")
    with transaction(market.stack.sessions) as session:
        original = session.scalars(
            select(Posting).where(Posting.dedupe_key == f"charge:{payment.id}")
        ).one()
        ledger.post(
            session,
            kind="charge",
            lines=ledger.lines_of(original),
            occurred_at=original.occurred_at,
            description=f"payment {payment.id} (booked twice by a bug)",
            stripe=StripeRefs(
                original.stripe_balance_transaction,
                original.stripe_source,
                original.stripe_payment_intent,
                original.stripe_account,
            ),
        )
    fault.detail = f"posting for {original.stripe_balance_transaction} booked twice"


def dispute_opened(market: Marketplace, fault: Fault) -> None:
    [payment_id] = market.pay_for_loads(fault.day, 1, method="pm_card_createDispute")
    market.stack.drain()
    fault.detail = f"payment {payment_id} disputed by the cardholder"


def payout_webhook_lost(market: Marketplace, fault: Fault) -> None:
    """The next payout.paid webhook never arrives: the sweeper's event poller must find it."""
    market.add_fault({"webhook_drop": 1.0, "event_type": "payout.paid", "next": 1})

    def recovered() -> bool:
        log = requests_get(market, "/_sim/webhooks")["deliveries"]
        dropped = [d for d in log if d["outcome"] == "dropped" and d["type"] == "payout.paid"]
        if not dropped:
            return False
        event = market.stripe(
            "get", f"/v1/events/{dropped[0]['event']}", _account=dropped[0]["account"]
        )
        payout_id = event["data"]["object"]["id"]
        with transaction(market.stack.sessions) as session:
            batch = session.scalars(
                select(PayoutBatch).where(PayoutBatch.stripe_payout_id == payout_id)
            ).one_or_none()
            stored = session.scalar(
                select(WebhookEvent.id).where(WebhookEvent.stripe_event_id == event["id"])
            )
        fault.detail = f"{event['id']} ({payout_id}) dropped; fetched by the sweeper"
        return batch is not None and batch.status == "paid" and stored is not None

    fault.detail = "next payout.paid dropped"
    fault.check = recovered


def payout_fails_at_the_bank(market: Marketplace, fault: Fault) -> None:
    """A carrier's bank returns tonight's payout; the money stays on their connected balance
    and a later night's batch pays it out again."""
    with transaction(market.stack.sessions) as session:
        batch = session.scalars(
            select(PayoutBatch)
            .where(
                PayoutBatch.flow == "batch",
                PayoutBatch.stripe_payout_id.is_not(None),
                PayoutBatch.currency == "usd",
                PayoutBatch.method == "standard",
            )
            .order_by(PayoutBatch.id.desc())
        ).first()
        if batch is None:
            raise RuntimeError("no payout created tonight to fail")
        carrier_id, payout_id = batch.carrier_id, batch.stripe_payout_id
    market.sim(f"payouts/{payout_id}/fail", {"failure_code": "account_closed"})

    def failed_then_paid() -> bool:
        with transaction(market.stack.sessions) as session:
            statuses = list(
                session.scalars(
                    select(PayoutBatch.status)
                    .where(
                        PayoutBatch.carrier_id == carrier_id,
                        PayoutBatch.flow == "batch",
                        PayoutBatch.currency == "usd",
                    )
                    .order_by(PayoutBatch.id)
                )
            )
        # Paid by a later batch; a batch of a still later night may be on its way to the bank
        # when the week ends.
        failed, paid = PayoutBatchStatus.FAILED, PayoutBatchStatus.PAID
        return failed in statuses and paid in statuses[statuses.index(failed) + 1 :]

    fault.account = market.carriers[carrier_id][1]
    fault.detail = f"{payout_id} returned (account_closed); carrier {carrier_id} paid later"
    fault.check = failed_then_paid


def instant_payout(market: Marketplace, fault: Fault) -> None:
    carrier_id = next(iter(market.instant_carriers))

    def paid_instantly() -> bool:
        with transaction(market.stack.sessions) as session:
            return bool(
                session.scalars(
                    select(PayoutBatch.id).where(
                        PayoutBatch.carrier_id == carrier_id,
                        PayoutBatch.method == "instant",
                        PayoutBatch.status == "paid",
                    )
                ).first()
            )

    fault.detail = f"carrier {carrier_id} is paid by instant payout"
    fault.check = paid_instantly


def bank_debit_returned(market: Marketplace, fault: Fault) -> None:
    """A shipper's bank returns an ACH debit (insufficient funds) after 4 business days of
    processing: Stripe's pending payment is taken back by a payment_failure_refund. Both are
    booked as Stripe shows them, the carrier is never owed the load, and every day reconciles."""
    [payment_id] = market.pay_for_loads(
        fault.day, 1, method="pm_usBankAccount_insufficientFunds", currency="usd"
    )
    market.stack.drain()
    market.returned_debits.append(payment_id)

    def returned_and_booked() -> bool:
        with transaction(market.stack.sessions) as session:
            payment = session.get(Payment, payment_id)
            if payment is None or payment.stripe_payment_intent_id is None:
                return False
            kinds = set(
                session.scalars(
                    select(Posting.kind).where(
                        Posting.stripe_payment_intent == payment.stripe_payment_intent_id
                    )
                )
            )
            fault.detail = (
                f"payment {payment_id} ({payment.stripe_payment_intent_id}) {payment.status}:"
                f" {payment.failure_code}; booked payment + payment_failure_refund"
            )
            return (
                payment.status == "failed"
                and payment.failure_code == "insufficient_funds"
                and kinds == {"payment", "payment_failure_refund"}
            )

    fault.detail = f"payment {payment_id} processing"
    fault.check = returned_and_booked


def all_pages(market: Marketplace, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = market.stripe("get", path, **params)
        rows += page["data"]
        if not page["has_more"]:
            return rows
        params["starting_after"] = page["data"][-1]["id"]


def requests_get(market: Marketplace, path: str) -> Any:
    response = requests.get(f"{market.stack.sim.url}{path}", timeout=30)
    response.raise_for_status()
    return response.json()


# Every fault the demo plants, in the order they are spread over the week.
CATALOGUE: list[Fault] = [
    Fault(
        "ACH debit returned",
        "a shipper's bank returned a bank debit after processing",
        None,
        bank_debit_returned,
        "day",
    ),
    Fault(
        "charge job died after Stripe succeeded",
        "Stripe charged, the worker lost the answer",
        None,
        charge_job_dies_after_stripe_succeeded,
        "day",
    ),
    Fault(
        "Stripe 429s and 500s",
        "5% of requests refused or failing for a while",
        None,
        stripe_rate_limits_and_errors,
        "day",
    ),
    Fault(
        "refund made directly at Stripe",
        "someone refunded in the Stripe dashboard",
        "missing_in_ledger",
        refund_made_at_stripe,
        "day",
    ),
    Fault(
        "Stripe fee differs",
        "Stripe changed a charge's fee after the fact",
        "fee_mismatch",
        stripe_fee_changed,
        "day",
    ),
    Fault(
        "ledger posting duplicated",
        "a bug booked a charge twice",
        "duplicate_in_ledger",
        ledger_posting_duplicated,
        "day",
    ),
    Fault(
        "dispute opened",
        "a cardholder disputed a charge (booked from its events, listed for finance)",
        None,
        dispute_opened,
        "day",
    ),
    Fault(
        "webhook lost", "a payout.paid webhook never arrived", None, payout_webhook_lost, "night"
    ),
    Fault(
        "payout failed, retried next night",
        "a carrier's bank returned a payout",
        None,
        payout_fails_at_the_bank,
        "after_batching",
    ),
    Fault("instant payout", "a carrier is paid by instant payout", None, instant_payout, "night"),
]
