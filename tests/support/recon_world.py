"""Real activity for end-to-end reconciliation tests: the payments services against
stripe_sim, on a frozen simulator clock so every `created` is known, plus the out-of-band
faults (made directly against the simulator or the ledger) that reconciliation must find."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import requests
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from models import Payment, PayoutBatch, Posting, Refund
from models.db import transaction
from models.money import Money
from payments import charges, chart, ledger, parties, payouts, refunds
from payments.gateway import StripeGateway, make_stripe_client
from payments.gateway.records import BalanceTransaction
from payments.ledger import StripeRefs, credit, debit
from reconciliation.stripe_http import StripeHTTP

API_KEY = "sk_test_midway"
_numbers = itertools.count(1)


def unix(text: str, tz: str = "UTC") -> int:
    """'2026-03-10 14:00' in `tz` as unix seconds."""
    from zoneinfo import ZoneInfo

    return int(dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp())


@dataclass
class World:
    sessions: sessionmaker[Session]
    gateway: StripeGateway
    sim_url: str

    # Simulator control ----------------------------------------------------------------

    def sim(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.sim_url}/_sim/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def at(self, when: int) -> None:
        """Freeze the simulator clock at `when` (unix seconds)."""
        self.sim("clock", {"set": when, "freeze": True})

    def deliver_events(self, prefix: str) -> list[str]:
        """Every event of the platform whose type starts with `prefix`, delivered as webhooks
        twice, newest first (duplicates and reordering must change nothing)."""
        from payments import webhook_events

        page = self.sdk().v1.events.list(params={"limit": 100})
        events = [e.to_dict() for e in page.data if e.type.startswith(prefix)]
        statuses = []
        for event in events + events:
            with transaction(self.sessions) as session:
                row_id, _ = webhook_events.store_event(session, event)
            statuses.append(webhook_events.process_event(self.sessions, self.gateway, row_id))
        return statuses

    def http(self) -> StripeHTTP:
        return StripeHTTP(self.sim_url, API_KEY)

    def sdk(self) -> stripe.StripeClient:
        settings = load_settings({"STRIPE_API_KEY": API_KEY, "STRIPE_MAX_NETWORK_RETRIES": "0"})
        return make_stripe_client(settings, self.sim_url)

    # Parties --------------------------------------------------------------------------

    def shipper(self) -> int:
        n = next(_numbers)
        with transaction(self.sessions) as session:
            shipper_id = parties.create_shipper(
                session, name=f"Shipper {n}", email=f"s{n}@example.com", external_id=f"s{n}"
            ).id
        parties.ensure_customer(self.sessions, self.gateway, shipper_id)
        return shipper_id

    def carrier(self, currency: str = "usd") -> tuple[int, str]:
        n = next(_numbers)
        with transaction(self.sessions) as session:
            carrier = parties.create_carrier(
                session,
                name=f"Carrier {n}",
                email=f"c{n}@example.com",
                country="US",
                default_currency=currency,
            )
            parties.request_connected_account(session, carrier.id)
            carrier_id = carrier.id
        account = parties.ensure_connected_account(self.sessions, self.gateway, carrier_id)
        self.sim(f"accounts/{account}/complete_onboarding")
        parties.refresh_connected_account(self.sessions, self.gateway, account)
        return carrier_id, account

    # Money movements through our services ---------------------------------------------

    def charge(self, shipper: int, carrier: int, amount: int, currency: str = "usd") -> Payment:
        with transaction(self.sessions) as session:
            payment_id = charges.create_payment(
                session,
                shipper_id=shipper,
                carrier_id=carrier,
                load_reference=f"load-{next(_numbers)}",
                amount=Money(amount, currency),
                carrier_amount=amount * 8 // 10,
                payment_method="pm_card_bypassPending",
                confirm=True,
            ).id
        assert charges.advance_payment(self.sessions, self.gateway, payment_id) == "succeeded"
        return self._get(Payment, payment_id)

    def refund(self, payment: Payment, amount: int) -> Refund:
        with transaction(self.sessions) as session:
            refund_id = refunds.request_refund(session, payment.id, amount=amount).id
        assert refunds.advance_refund(self.sessions, self.gateway, refund_id) == "succeeded"
        return self._get(Refund, refund_id)

    def transfer(self, carrier: int, amount: int, currency: str = "usd") -> PayoutBatch:
        with transaction(self.sessions) as session:
            batch_id = payouts.request_transfer(session, carrier, Money(amount, currency)).id
        payouts.advance_batch(self.sessions, self.gateway, batch_id)
        return self._get(PayoutBatch, batch_id)

    def payout(self, carrier: int, amount: int, currency: str = "usd") -> PayoutBatch:
        with transaction(self.sessions) as session:
            batch_id = payouts.request_payout(
                session, carrier, Money(amount, currency), "standard"
            ).id
        payouts.advance_batch(self.sessions, self.gateway, batch_id)
        return self._get(PayoutBatch, batch_id)

    def _get(self, model: Any, row_id: int) -> Any:
        with self.sessions() as session:
            return session.get(model, row_id)

    # Reading back ---------------------------------------------------------------------

    def posting_of(self, txn: str) -> Posting:
        with self.sessions() as session:
            return session.scalars(
                select(Posting).where(Posting.stripe_balance_transaction == txn)
            ).one()

    def stripe_txn(self, txn: str, account: str | None = None) -> BalanceTransaction:
        return self.gateway.retrieve_balance_transaction(txn, account=account)

    # Ledger-side faults ---------------------------------------------------------------

    def book(
        self,
        *,
        kind: str,
        amount: int,
        currency: str = "usd",
        fee: int = 0,
        occurred_at: int,
        txn: str | None,
        source: str | None,
        account: str = "platform",
        payment_intent: str | None = None,
    ) -> Posting:
        """Post a balanced posting that claims to mirror a Stripe balance transaction."""
        net = amount - fee
        balance = chart.stripe_balance(account)
        lines = []
        if net > 0:
            lines.append(debit(balance, Money(net, currency), "net"))
        elif net < 0:
            lines.append(credit(balance, Money(-net, currency), "net"))
        if fee:
            lines.append(debit(chart.STRIPE_FEES, Money(fee, currency), chart.FEE_MEMO))
        if amount > 0:
            lines.append(credit(chart.ADJUSTMENTS, Money(amount, currency)))
        else:
            lines.append(debit(chart.ADJUSTMENTS, Money(-amount, currency)))
        with transaction(self.sessions) as session:
            return ledger.post(
                session,
                kind=kind,
                lines=lines,
                occurred_at=dt.datetime.fromtimestamp(occurred_at, dt.UTC),
                dedupe_key=f"planted:{next(_numbers)}",
                stripe=StripeRefs(
                    balance_transaction=txn,
                    source=source,
                    payment_intent=payment_intent,
                    account=None if account == "platform" else account,
                ),
            )

    def duplicate(
        self, posting: Posting, *, occurred_at: int | None = None, key: str = "double"
    ) -> Posting:
        """Post a second copy of a posting under another dedupe key (a double booking),
        optionally at another time."""
        with transaction(self.sessions) as session:
            original = session.get(Posting, posting.id)
            assert original is not None
            lines = [
                ledger.Line(
                    ledger.Account(line.account.code, line.account.kind),  # type: ignore[arg-type]
                    line.side,  # type: ignore[arg-type]
                    Money(line.amount, line.currency),
                    line.memo,
                )
                for line in original.lines
            ]
            when = (
                original.occurred_at
                if occurred_at is None
                else dt.datetime.fromtimestamp(occurred_at, dt.UTC)
            )
            return ledger.post(
                session,
                kind=original.kind,
                lines=lines,
                occurred_at=when,
                dedupe_key=f"{key}:{original.id}",
                stripe=StripeRefs(
                    original.stripe_balance_transaction,
                    original.stripe_source,
                    original.stripe_payment_intent,
                    original.stripe_account,
                ),
            )

    def rebook_at(self, posting: Posting, occurred_at: int) -> Posting:
        """Reverse a posting and book it again at another time (a mis-dated correction)."""
        with transaction(self.sessions) as session:
            ledger.reverse(session, posting.id)
        return self.duplicate(posting, occurred_at=occurred_at, key="rebooked")
