"""A day of real activity (the payments services against stripe_sim) and one planting
function per discrepancy kind: out-of-band changes made directly at the simulator, or faults
written into the ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from recon_world import World, unix

from reconciliation.service import RunOutcome, run_day
from reconciliation.stripe_source import ApiSource

DAY = "2026-03-10"


@dataclass
class Base:
    shipper: int
    carrier: int
    account: str
    usd_charge_pi: str
    usd_charge_id: str
    usd_charge_txn: str
    jpy_charge_txn: str
    kwd_charge_txn: str
    payout_id: str


def base_day(world: World) -> Base:
    """A clean day in usd, jpy (zero-decimal) and kwd (three-decimal), with a refund, a
    transfer to a carrier and the carrier's payout, on a platform with a bank account in each
    of the three currencies (so each settles unconverted)."""
    world.sim("accounts/platform/settlement", {"currencies": ["usd", "jpy", "kwd"]})
    world.at(unix(f"{DAY} 09:00"))
    shipper = world.shipper()
    carrier, account = world.carrier("usd")
    world.at(unix(f"{DAY} 10:00"))
    usd = world.charge(shipper, carrier, 100_00, "usd")
    jpy = world.charge(shipper, carrier, 15_000, "jpy")
    kwd = world.charge(shipper, carrier, 12_345, "kwd")
    world.at(unix(f"{DAY} 11:00"))
    world.refund(usd, 10_00)
    world.at(unix(f"{DAY} 12:00"))
    world.transfer(carrier, 50_00)
    batch = world.payout(carrier, 30_00)
    assert usd.stripe_payment_intent_id and batch.stripe_payout_id
    return Base(
        shipper,
        carrier,
        account,
        usd.stripe_payment_intent_id,
        str(usd.stripe_charge_id),
        str(usd.stripe_balance_transaction_id),
        str(jpy.stripe_balance_transaction_id),
        str(kwd.stripe_balance_transaction_id),
        batch.stripe_payout_id,
    )


def reconcile(world: World, account: str = "platform") -> RunOutcome:
    return run_day(world.sessions, ApiSource(world.http()), DAY, account, "UTC")


def kinds(outcome: RunOutcome) -> Counter[str]:
    return Counter(d.kind for d in outcome.result.discrepancies)


# Plants: each makes one discrepancy of one kind, on the platform or the carrier's account.


def oob_refund(world: World, base: Base, amount: int, at: str, day: str = DAY) -> str:
    """A refund made in the Stripe Dashboard at `at` on `day`: Stripe has it, our system
    never saw it."""
    world.at(unix(f"{day} {at}"))
    refund = world.sdk().v1.refunds.create(
        params={"payment_intent": base.usd_charge_pi, "amount": amount}
    )
    return str(refund.balance_transaction)


def plant_missing_in_ledger(world: World, base: Base) -> str:
    oob_refund(world, base, 5_00, "13:00")
    return "platform"


def plant_missing_in_stripe(world: World, base: Base) -> str:
    world.book(
        kind="charge",
        amount=42_00,
        occurred_at=unix(f"{DAY} 14:00"),
        txn="txn_ghost",
        source="ch_ghost",
    )
    return "platform"


def plant_amount_mismatch(world: World, base: Base) -> str:
    txn = oob_refund(world, base, 7_00, "13:30")
    world.book(
        kind="refund",
        amount=-70_00,
        occurred_at=unix(f"{DAY} 13:30"),
        txn=txn,
        source=world.stripe_txn(txn).source,
    )
    return "platform"


def plant_fee_mismatch(world: World, base: Base) -> str:
    fee = world.stripe_txn(base.jpy_charge_txn).fee
    world.sim(f"balance_transactions/{base.jpy_charge_txn}/fee", {"fee": fee + 50})
    return "platform"


def plant_currency_mismatch(world: World, base: Base) -> str:
    txn = oob_refund(world, base, 3_00, "14:30")
    world.book(
        kind="refund",
        amount=-3_00,
        currency="eur",
        occurred_at=unix(f"{DAY} 14:30"),
        txn=txn,
        source=world.stripe_txn(txn).source,
    )
    return "platform"


def plant_duplicate_in_ledger(world: World, base: Base) -> str:
    world.duplicate(world.posting_of(base.kwd_charge_txn))
    return "platform"


def plant_status_mismatch(world: World, base: Base) -> str:
    world.at(unix(f"{DAY} 16:00"))
    world.sim(f"payouts/{base.payout_id}/fail", {"failure_code": "account_closed"})
    return base.account


def plant_timing(world: World, base: Base) -> str:
    world.at(unix(f"{DAY} 23:00"))
    late = world.charge(base.shipper, base.carrier, 25_00, "usd")
    posting = world.posting_of(str(late.stripe_balance_transaction_id))
    world.rebook_at(posting, unix("2026-03-11 01:30"))
    return "platform"


def plant_probable_match(world: World, base: Base) -> str:
    world.at(unix(f"{DAY} 15:00"))
    world.sdk().v1.payment_intents.create(
        params={
            "amount": 77_00,
            "currency": "usd",
            "payment_method": "pm_card_bypassPending",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )
    # Booked by hand with only the PaymentIntent (no Stripe balance transaction or charge id
    # to contradict): the one case where amount and time are all there is to go on.
    world.book(
        kind="charge",
        amount=77_00,
        fee=2_53,  # Stripe's 2.9% + 30¢: everything but the ids agrees
        occurred_at=unix(f"{DAY} 15:10"),
        txn=None,
        source=None,
        payment_intent="pi_booked_by_hand",
    )
    return "platform"


def plant_unexpected_type(world: World, base: Base) -> str:
    """A dispute: Stripe withdraws the amount and its fee (an `adjustment`); no rule books it."""
    world.at(unix(f"{DAY} 17:00"))
    world.sim(f"charges/{base.usd_charge_id}/dispute", {"reason": "fraudulent", "amount": 20_00})
    return "platform"


PLANTS: dict[str, Callable[[World, Base], str]] = {
    "missing_in_ledger": plant_missing_in_ledger,
    "missing_in_stripe": plant_missing_in_stripe,
    "amount_mismatch": plant_amount_mismatch,
    "fee_mismatch": plant_fee_mismatch,
    "currency_mismatch": plant_currency_mismatch,
    "duplicate_in_ledger": plant_duplicate_in_ledger,
    "status_mismatch": plant_status_mismatch,
    "timing": plant_timing,
    "probable_match": plant_probable_match,
    "unexpected_type": plant_unexpected_type,
}
