"""Paying carriers: a transfer to their connected account, then a payout to their bank.

One PayoutBatch row per movement, driven by advance_batch through recovery points:
  started ─transfer (key transfer:<id>)─▶ transferred ─payout (key payout:<id>)─▶ payout_created
  ─(payout.paid / payout.failed)─▶ finished
A `transfer` flow stops after the transfer; a `payout` flow starts at the payout (the money is
already on the connected balance). A failed payout leaves the money on the connected balance.
A repeated attempt first lists the carrier's transfers (or the connected account's payouts)
for our marker (metadata batch_id) and records what it finds, since the key alone cannot tell
(a 500 replayed for it, a key older than 24 hours); a batch that cannot be settled is parked
for a person (payments/attention.py).
A nightly batch (flow `batch`, payments/payout_batching.py) pays out `payout_amount`, which
includes money an earlier failed payout left there; with nothing new to transfer (amount 0)
it starts at the payout.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Carrier, PayoutBatch
from models.db import transaction
from models.money import Money
from models.payments import PayoutBatchStatus
from payments import attention, bookings, chart, ledger, ownership, scheduled_runs
from payments.errors import (
    InvalidOperation,
    NotFound,
    StripeObjectUnreadable,
    StripeRequestRefused,
    Unsettled,
)
from payments.gateway import StripeGateway
from payments.gateway.reading import expanded
from payments.gateway.records import Charge, Payout, Transfer

# A transfer or a payout: what a look-up by our marker may find for a batch's step.
Found = TypeVar("Found", Transfer, Payout)


def _payable_carrier(session: Session, carrier_id: int) -> Carrier:
    carrier = session.get(Carrier, carrier_id)
    if carrier is None:
        raise NotFound(f"no carrier {carrier_id}")
    if not carrier.stripe_account_id or not carrier.payouts_enabled:
        raise InvalidOperation(
            f"carrier {carrier_id} cannot be paid yet: their Stripe account does not have"
            " payouts enabled (onboarding incomplete)"
        )
    return carrier


def owed_to_carrier(session: Session, carrier_id: int, currency: str) -> int:
    """What we owe the carrier in a currency and have not transferred (credit balance)."""
    return -ledger.balance(session, chart.carrier_payable(carrier_id).code, currency).amount


def receivable_from_carrier(session: Session, carrier_id: int, currency: str) -> int:
    return ledger.balance(session, chart.carrier_receivable(carrier_id).code, currency).amount


def funds_on_connected_account(session: Session, stripe_account: str, currency: str) -> int:
    return -ledger.balance(session, chart.carrier_funds(stripe_account).code, currency).amount


def claimed_in_flight(session: Session, carrier_id: int, currency: str) -> tuple[int, int]:
    """What batches not yet run already claim: (of the payable, by transfers not yet made;
    of the connected balance, by payouts not yet made). Requests deduct it, so money is
    never sent twice by a request racing another or the nightly batch."""
    transfers = payouts = 0
    for batch in session.scalars(
        select(PayoutBatch).where(
            PayoutBatch.carrier_id == carrier_id,
            PayoutBatch.currency == currency,
            PayoutBatch.recovery_point != "finished",
        )
    ):
        payout_amount = batch.payout_amount or batch.amount
        if batch.recovery_point == "started":
            transfers += batch.amount + batch.receivable_offset
            payouts += payout_amount - batch.amount if batch.flow == "batch" else 0
        elif batch.stripe_payout_id is None and batch.flow != "transfer":
            payouts += payout_amount
    return transfers, payouts


def _lock_payouts(session: Session) -> None:
    # The nightly batch holds this lock while it claims balances; requests wait for it.
    scheduled_runs.lock(session, "payout_batching")


def request_transfer(session: Session, carrier_id: int, amount: Money) -> PayoutBatch:
    """A transfer of money we owe to the carrier's connected account (no payout)."""
    carrier = _payable_carrier(session, carrier_id)
    _lock_payouts(session)
    owed = owed_to_carrier(session, carrier_id, amount.currency)
    owed -= claimed_in_flight(session, carrier_id, amount.currency)[0]
    if not 0 < amount.amount <= owed:
        raise InvalidOperation(
            f"transfer of {amount} exceeds what we owe carrier {carrier_id}"
            f" ({Money(max(owed, 0), amount.currency)})"
        )
    return _new_batch(session, carrier, amount, flow="transfer", method="standard")


def request_payout(session: Session, carrier_id: int, amount: Money, method: str) -> PayoutBatch:
    """A payout from the carrier's connected balance to their bank."""
    if method not in ("standard", "instant"):
        raise InvalidOperation("method must be standard or instant")
    carrier = _payable_carrier(session, carrier_id)
    assert carrier.stripe_account_id is not None
    _lock_payouts(session)
    funds = funds_on_connected_account(session, carrier.stripe_account_id, amount.currency)
    funds -= claimed_in_flight(session, carrier_id, amount.currency)[1]
    if not 0 < amount.amount <= funds:
        raise InvalidOperation(
            f"payout of {amount} exceeds carrier {carrier_id}'s balance"
            f" ({Money(max(funds, 0), amount.currency)})"
        )
    return _new_batch(session, carrier, amount, flow="payout", method=method)


def _new_batch(
    session: Session,
    carrier: Carrier,
    amount: Money,
    *,
    flow: str,
    method: str,
    period: date | None = None,
    receivable_offset: int = 0,
) -> PayoutBatch:
    batch = PayoutBatch(
        carrier_id=carrier.id,
        amount=amount.amount,
        currency=amount.currency,
        period=period or datetime.now(UTC).date(),
        flow=flow,
        method=method,
        receivable_offset=receivable_offset,
        status=PayoutBatchStatus.PENDING,
        recovery_point="transferred" if flow == "payout" else "started",
    )
    session.add(batch)
    session.flush()
    return batch


def advance_batch(sessions: sessionmaker[Session], gateway: StripeGateway, batch_id: int) -> str:
    """Drive one batch as far as it goes now; return its status. Safe to repeat."""
    while True:
        with transaction(sessions) as session:
            batch = session.get(PayoutBatch, batch_id)
            if batch is None:
                raise NotFound(f"no payout batch {batch_id}")
            if batch.recovery_point == "finished" or batch.attention_at is not None:
                return batch.status
            batch.attempts += 1
            repeated = batch.attempts > 1
            carrier = session.get(Carrier, batch.carrier_id)
            assert carrier is not None and carrier.stripe_account_id is not None
            step, account = batch.recovery_point, carrier.stripe_account_id
            amount, currency, method = batch.amount, batch.currency, batch.method
            # A nightly batch also pays out what a failed payout left on the connected balance.
            payout_amount = batch.payout_amount or batch.amount
            payout_id = batch.stripe_payout_id
            if step == "started" and amount == 0:
                # Nothing new to transfer: the batch only retries a failed payout.
                batch.recovery_point = "transferred"
                continue
        metadata = {"batch_id": str(batch_id), "carrier_id": str(carrier.id)}
        try:
            if step == "started":
                found = (
                    _existing(
                        gateway.find_transfers(batch_id, destination=account),
                        "transfer",
                        batch_id,
                        amount,
                        currency,
                    )
                    if repeated
                    else None
                )
                transfer = (
                    gateway.retrieve_transfer(found.id)
                    if found
                    else gateway.create_transfer(
                        f"transfer:{batch_id}",
                        amount=amount,
                        currency=currency,
                        destination=account,
                        metadata=metadata,
                    )
                )
                received = gateway.retrieve_charge(_destination_payment(transfer), account=account)
                with transaction(sessions) as session:
                    _record_transfer(session, batch_id, transfer, received, account)
            elif step == "transferred":
                payout = (
                    _existing(
                        gateway.find_payouts(batch_id, account=account),
                        "payout",
                        batch_id,
                        payout_amount,
                        currency,
                    )
                    if repeated
                    else None
                ) or gateway.create_payout(
                    f"payout:{batch_id}",
                    amount=payout_amount,
                    currency=currency,
                    method=method,
                    account=account,
                    metadata=metadata,
                )
                with transaction(sessions) as session:
                    record_payout(session, gateway, batch_id, payout, account)
            else:
                assert payout_id is not None
                payout = gateway.retrieve_payout(payout_id, account=account)
                with transaction(sessions) as session:
                    status = record_payout(session, gateway, batch_id, payout, account)
                return status
        except Unsettled as unsettled:
            attention.park_row(sessions, "payout_batch", batch_id, str(unsettled))
            with transaction(sessions) as session:
                parked = session.get(PayoutBatch, batch_id)
                assert parked is not None
                return parked.status
        except StripeRequestRefused as refused:
            with transaction(sessions) as session:
                batch = session.get(PayoutBatch, batch_id, with_for_update=True)
                assert batch is not None
                batch.status = PayoutBatchStatus.FAILED
                batch.failure_code = refused.code
                batch.failure_message = str(refused)
                batch.recovery_point = "finished"
                return batch.status


def _existing(
    found: list[Found], what: str, batch_id: int, amount: int, currency: str
) -> Found | None:
    """The one object Stripe holds for this batch's step, None when it certainly holds none
    (list filters are immediately consistent); Unsettled when it is not plainly ours."""
    if not found:
        return None
    if len(found) > 1 or (found[0].amount, found[0].currency) != (amount, currency):
        raise Unsettled(
            f"Stripe's {what}s marked batch_id={batch_id} do not match {amount} {currency}: "
            + ", ".join(f"{o.id} {o.amount} {o.currency}" for o in found)
        )
    return found[0]


def _destination_payment(transfer: Transfer) -> str:
    if transfer.destination_payment is None:
        raise StripeObjectUnreadable(
            f"Stripe transfer {transfer.id} names no destination_payment",
            obj="transfer",
            field="destination_payment",
        )
    return transfer.destination_payment


def _record_transfer(
    session: Session, batch_id: int, transfer: Transfer, received: Charge, account: str
) -> None:
    batch = session.get(PayoutBatch, batch_id, with_for_update=True)
    assert batch is not None
    if batch.recovery_point != "started":
        return
    bookings.lock_carrier(session, batch.carrier_id)
    txn = "balance_transaction"
    sent = expanded(transfer.balance_transaction, "transfer", transfer.id, txn)
    got = expanded(received.balance_transaction, "charge", received.id, txn)
    bookings.book_transfer(session, batch, sent, transfer=transfer.id)
    bookings.book_transfer_received(session, batch, got, stripe_account=account)
    batch.stripe_transfer_id = transfer.id
    batch.status = PayoutBatchStatus.TRANSFERRED
    batch.recovery_point = "finished" if batch.flow == "transfer" else "transferred"


def with_balance_transactions(gateway: StripeGateway, payout: Payout, account: str) -> Payout:
    """The payout as the booking rules read it: its balance transaction (and a failed one's
    failure balance transaction) expanded. Another copy (a list's) is fetched again."""
    if payout.balance_transaction is None or (
        payout.status == "failed" and payout.failure_balance_transaction is None
    ):
        return gateway.retrieve_payout(payout.id, account=account)
    return payout


def record_payout(
    session: Session, gateway: StripeGateway, batch_id: int, payout: Payout, account: str
) -> str:
    """Bring the batch in line with Stripe's Payout on the carrier's connected `account`, read
    beforehand without a lock (job or payout.* webhook, both through advance_batch)."""
    # Before the row is read: no transaction or lock is held across the Stripe call.
    payout = with_balance_transactions(gateway, payout, account)
    batch = session.get(PayoutBatch, batch_id, with_for_update=True)
    if batch is None:
        raise NotFound(f"no payout batch {batch_id}")
    if batch.recovery_point == "finished" or batch.attention_at is not None:
        return batch.status  # done, or parked: a person decides, not a webhook
    ownership.keep_stored_id(batch.stripe_payout_id, payout.id, f"payout batch {batch_id}")
    batch.stripe_payout_id = payout.id
    sent = expanded(payout.balance_transaction, "payout", payout.id, "balance_transaction")
    bookings.book_payout(session, batch, sent, stripe_account=account)
    batch.recovery_point = "payout_created"
    if payout.status == "paid":
        batch.status = PayoutBatchStatus.PAID
        batch.recovery_point = "finished"
    elif payout.status in ("failed", "canceled"):
        back = expanded(
            payout.failure_balance_transaction, "payout", payout.id, "failure_balance_transaction"
        )
        bookings.book_payout_failure(session, batch, back, stripe_account=account)
        batch.status = PayoutBatchStatus.FAILED
        batch.failure_code = payout.failure_code
        batch.failure_message = payout.failure_message
        batch.recovery_point = "finished"
    return batch.status
