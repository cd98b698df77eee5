"""One seeded run of the marketplace against real processes, and the checks that prove every
effect happened exactly once. Used by the crash, Redis-restart and PostgreSQL-restart tests."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import stripe
from sqlalchemy import func, select

from models import Payment, PayoutBatch, Posting, Refund
from models.db import transaction
from models.money import Money
from payments import charges, chart, ledger, parties, payouts, refunds

FAULTS = {
    "error_500": 0.05,
    "rate_limit_429": 0.05,
    "commit_then_fail": 0.05,
    "drop_connection": 0.03,
}
DECLINED = "pm_card_chargeDeclined"


@dataclass
class Scenario:
    cluster: Any
    seed: int
    rng: random.Random = field(init=False)
    carriers: dict[int, str] = field(default_factory=dict)
    payment_ids: list[int] = field(default_factory=list)
    declined_ids: set[int] = field(default_factory=set)
    kills: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # Setting up, in this process, with the services -------------------------------------

    def set_up_market(self, carriers: int = 2) -> None:
        sessions, gateway = self.cluster.sessions, self.cluster.gateway
        with transaction(sessions) as session:
            shipper = parties.create_shipper(
                session, name="Shipper", email="s@x.test", external_id=f"s{self.seed}"
            )
            carrier_ids = []
            for index in range(carriers):
                carrier = parties.create_carrier(
                    session,
                    name=f"Carrier {index}",
                    email=f"c{index}@x.test",
                    country="US",
                    default_currency="usd",
                )
                parties.request_connected_account(session, carrier.id)
                carrier_ids.append(carrier.id)
        self.shipper_id = shipper.id
        parties.ensure_customer(sessions, gateway, shipper.id)
        for carrier_id in carrier_ids:
            account = parties.ensure_connected_account(sessions, gateway, carrier_id)
            self.cluster.sim(f"accounts/{account}/complete_onboarding")
            parties.refresh_connected_account(sessions, gateway, account)
            self.carriers[carrier_id] = account

    def accept_payments(self, count: int) -> None:
        with transaction(self.cluster.sessions) as session:
            for index in range(count):
                declined = index % 8 == 7
                currency = "jpy" if index % 3 == 0 else "usd"
                amount = self.rng.randrange(2000, 50000)
                payment = charges.create_payment(
                    session,
                    shipper_id=self.shipper_id,
                    carrier_id=self.rng.choice(list(self.carriers)),
                    load_reference=f"load-{self.seed}-{index}",
                    amount=Money(amount, currency),
                    carrier_amount=amount * 8 // 10,
                    payment_method=DECLINED if declined else "pm_card_bypassPending",
                )
                self.payment_ids.append(payment.id)
                if declined:
                    self.declined_ids.add(payment.id)
        for payment_id in self.payment_ids:
            self.cluster.send("charges", "advance_payment", payment_id)

    def accept_refunds(self) -> list[int]:
        ids = []
        with transaction(self.cluster.sessions) as session:
            succeeded = session.scalars(
                select(Payment).where(Payment.status == "succeeded").order_by(Payment.id)
            ).all()
            for payment in self.rng.sample(list(succeeded), k=min(5, len(succeeded))):
                amount = self.rng.randrange(1, payment.amount + 1)
                ids.append(refunds.request_refund(session, payment.id, amount=amount).id)
        for refund_id in ids:
            self.cluster.send("refunds", "advance_refund", refund_id)
        return ids

    def accept_transfers(self) -> list[int]:
        ids = []
        with transaction(self.cluster.sessions) as session:
            for carrier_id in self.carriers:
                for currency in ("usd", "jpy"):
                    owed = payouts.owed_to_carrier(session, carrier_id, currency)
                    if owed > 0:
                        batch = payouts.request_transfer(session, carrier_id, Money(owed, currency))
                        ids.append(batch.id)
        for batch_id in ids:
            self.cluster.send("payouts", "advance_batch", batch_id)
        return ids

    def accept_payouts(self) -> list[int]:
        ids = []
        with transaction(self.cluster.sessions) as session:
            for carrier_id, account in self.carriers.items():
                for currency in ("usd", "jpy"):
                    funds = payouts.funds_on_connected_account(session, account, currency)
                    if funds > 0:
                        money = Money(funds, currency)
                        ids.append(
                            payouts.request_payout(session, carrier_id, money, "standard").id
                        )
        for batch_id in ids:
            self.cluster.send("payouts", "advance_batch", batch_id)
        return ids

    # Driving, with chaos -----------------------------------------------------------------

    def unfinished(self, model: Any) -> int:
        with self.cluster.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(model.recovery_point != "finished")
                )
                or 0
            )

    def drive(
        self,
        done: Callable[[], bool],
        *,
        chaos: bool,
        timeout_s: float = 90,
        during: Callable[[], None] | None = None,
    ) -> None:
        """Wait for `done`, SIGKILLing and restarting workers at random moments meanwhile, and
        sweeping stuck rows as the scheduler would."""
        deadline = time.monotonic() + timeout_s
        last_sweep = time.monotonic()
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"seed {self.seed}: work did not finish in {timeout_s} s"
                    f" (payments {self.unfinished(Payment)}, refunds {self.unfinished(Refund)},"
                    f" batches {self.unfinished(PayoutBatch)} unfinished)"
                )
            if chaos and self.rng.random() < 0.4:
                victim = self.rng.randrange(len(self.cluster.workers))
                self.cluster.kill_worker(victim)
                self.kills += 1
                time.sleep(self.rng.uniform(0.0, 0.3))
                self.cluster.start_worker(victim)
            if during is not None:
                during()
                during = None
            time.sleep(self.rng.uniform(0.2, 0.6))
            if time.monotonic() - last_sweep > 1.5:
                self.cluster.sweep(older_than_s=2)
                last_sweep = time.monotonic()

    def all_finished(self, model: Any) -> Callable[[], bool]:
        return lambda: self.unfinished(model) == 0

    def batches_at_payout(self, ids: list[int]) -> Callable[[], bool]:
        def check() -> bool:
            with self.cluster.sessions() as session:
                return all(
                    batch.stripe_payout_id is not None or batch.recovery_point == "finished"
                    for batch in session.scalars(select(PayoutBatch).where(PayoutBatch.id.in_(ids)))
                )

        return check

    def run(self, *, chaos: bool, during: Callable[[], None] | None = None) -> None:
        """The whole marketplace day: charges, refunds, transfers, payouts."""
        self.set_up_market()
        self.accept_payments(16)
        for index in range(2):
            self.cluster.start_worker(index)
        self.cluster.sim("faults", FAULTS)
        self.drive(self.all_finished(Payment), chaos=chaos, during=during)
        self.accept_refunds()
        self.drive(self.all_finished(Refund), chaos=chaos)
        self.accept_transfers()
        self.drive(self.all_finished(PayoutBatch), chaos=chaos)
        payout_ids = self.accept_payouts()
        self.drive(self.batches_at_payout(payout_ids), chaos=chaos)
        self.cluster.sim("faults", {})
        self.cluster.sim("clock", {"advance": 5 * 86400})  # the banks pay out
        self.drive(self.all_finished(PayoutBatch), chaos=False)

    # Checking ----------------------------------------------------------------------------

    def verify(self) -> None:
        seed = f"seed {self.seed}"
        client = stripe.StripeClient("sk_test_midway", base_addresses={"api": self.cluster.sim_url})
        with transaction(self.cluster.sessions) as session:
            payments = session.scalars(select(Payment)).all()
            for payment in payments:
                expected = "failed" if payment.id in self.declined_ids else "succeeded"
                assert payment.status == expected, f"{seed}: payment {payment.id} {payment.status}"
            intents = _all(client.v1.payment_intents.list, {})
            per_payment = Counter(pi["metadata"]["payment_id"] for pi in intents)
            assert per_payment == Counter({str(p.id): 1 for p in payments}), (
                f"{seed}: PaymentIntents per payment {per_payment}"
            )
            our_refunds = session.scalars(select(Refund)).all()
            assert all(r.status == "succeeded" for r in our_refunds), seed
            at_stripe = Counter(
                r["metadata"]["refund_id"] for r in _all(client.v1.refunds.list, {})
            )
            assert at_stripe == Counter({str(r.id): 1 for r in our_refunds}), f"{seed}: {at_stripe}"
            batches = session.scalars(select(PayoutBatch)).all()
            transfers = Counter(
                t["metadata"]["batch_id"] for t in _all(client.v1.transfers.list, {})
            )
            assert transfers == Counter({str(b.id): 1 for b in batches if b.flow == "transfer"}), (
                f"{seed}: transfers {transfers}"
            )
            payouts_at_stripe: Counter[str] = Counter()
            for account in self.carriers.values():
                for payout in _all(client.v1.payouts.list, {"stripe_account": account}):
                    payouts_at_stripe[payout["metadata"]["batch_id"]] += 1
            assert payouts_at_stripe == Counter(
                {str(b.id): 1 for b in batches if b.flow == "payout"}
            ), f"{seed}: payouts {payouts_at_stripe}"
            assert all(b.status == "paid" for b in batches if b.flow == "payout"), seed

            kinds = Counter(session.scalars(select(Posting.kind)))
            assert kinds["charge"] == len(payments) - len(self.declined_ids), f"{seed}: {kinds}"
            assert kinds["refund"] == len(our_refunds), f"{seed}: {kinds}"
            assert all(total == 0 for total in ledger.trial_balance(session).values()), seed
            # The ledger's mirror of each Stripe balance equals Stripe's balance.
            for account in (chart.PLATFORM, *self.carriers.values()):
                options: Any = {} if account == chart.PLATFORM else {"stripe_account": account}
                balance = client.v1.balance.retrieve(options=options).to_dict()
                at_stripe_total: Counter[str] = Counter()
                for part in ("available", "pending"):
                    for entry in balance[part]:
                        at_stripe_total[entry["currency"]] += entry["amount"]
                mirrored = {
                    currency: total
                    for (code, currency), total in ledger.balances(session).items()
                    if code == chart.stripe_balance(account).code
                }
                for currency, total in at_stripe_total.items():
                    assert mirrored.get(currency, 0) == total, (
                        f"{seed}: {account} {currency} Stripe {total} ledger {mirrored}"
                    )


def _all(list_call: Callable[..., Any], options: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = list_call(params=params, options=options)
        rows += [item.to_dict() for item in page.data]
        if not page.has_more:
            return rows
        params["starting_after"] = page.data[-1].id
