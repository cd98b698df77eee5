"""ACH bank debits through our services, booked as they really settle, reconciled at each stage.

Stripe's rules (docs.stripe.com/payments/ach-direct-debit: up to 4 business days to learn
success or failure; docs.stripe.com/reports/balance-transaction-types: a pending `payment`
at once, a `payment_failure_refund` when the bank returns it, `payment_refund` for refunds).
Ours: the pending payment is mirrored the day Stripe shows it, held in `bank_debits_in_flight`
(owed to no carrier) until it settles; a return books Stripe's payment_failure_refund.
"""

from __future__ import annotations

from recon_world import World, unix

from models import Payment, Posting
from models.db import transaction
from models.money import Money
from payments import charges, chart, ledger, payouts
from reconciliation.service import RunOutcome, run_day
from reconciliation.stripe_source import ApiSource, ReportRunSource

PROCESSING_DAY, SETTLE_DAY = "2026-03-10", "2026-03-16"  # Tuesday; 4 business days later


def _debit(world: World, shipper: int, carrier: int, amount: int, method: str) -> int:
    with transaction(world.sessions) as session:
        payment_id = charges.create_payment(
            session,
            shipper_id=shipper,
            carrier_id=carrier,
            load_reference=f"ach-{method}",
            amount=Money(amount, "usd"),
            carrier_amount=amount * 8 // 10,
            payment_method=method,
        ).id
    assert charges.advance_payment(world.sessions, world.gateway, payment_id) == "processing"
    return payment_id


def _day(world: World, day: str) -> RunOutcome:
    return run_day(world.sessions, ApiSource(world.http()), day, "platform", "UTC")


def _balances(world: World, carrier: int) -> tuple[int, int]:
    with world.sessions() as session:
        in_flight = ledger.balance(session, chart.BANK_DEBITS_IN_FLIGHT.code, "usd").amount
        return -in_flight, payouts.owed_to_carrier(session, carrier, "usd")


def _kinds(world: World, payment_id: int) -> list[str]:
    with world.sessions() as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return sorted(
            p.kind
            for p in session.query(Posting).filter(
                Posting.stripe_payment_intent == payment.stripe_payment_intent_id
            )
        )


def test_bank_debits_are_booked_and_reconciled_at_each_stage(world: World) -> None:
    world.at(unix(f"{PROCESSING_DAY} 09:00"))
    shipper = world.shipper()
    carrier, _ = world.carrier("usd")
    world.at(unix(f"{PROCESSING_DAY} 10:00"))
    settles = _debit(world, shipper, carrier, 2_000_00, "pm_usBankAccount")
    returned = _debit(world, shipper, carrier, 500_00, "pm_usBankAccount_insufficientFunds")

    # Processing: Stripe shows two pending `payment`s; we mirror them, owing no carrier yet.
    assert _balances(world, carrier) == (2_500_00, 0)
    day = _day(world, PROCESSING_DAY)
    assert (day.status, day.result.discrepancies, day.result.counts.matched) == ("clean", [], 2)

    # Three business days on, still processing: the job finds nothing new.
    world.at(unix("2026-03-13 10:30"))
    assert charges.advance_payment(world.sessions, world.gateway, settles) == "processing"

    world.at(unix(f"{SETTLE_DAY} 10:30"))
    assert charges.advance_payment(world.sessions, world.gateway, settles) == "succeeded"
    assert charges.advance_payment(world.sessions, world.gateway, returned) == "failed"
    with world.sessions() as session:
        failed = session.get(Payment, returned)
        assert failed is not None and failed.failure_code == "insufficient_funds"
    assert _kinds(world, settles) == ["bank_debit_settled", "payment"]
    assert _kinds(world, returned) == ["payment", "payment_failure_refund"]
    # Settled: the carrier is owed their 80%; returned: nothing in flight, nothing owed.
    assert _balances(world, carrier) == (0, 1_600_00)
    with world.sessions() as session:
        assert ledger.trial_balance(session) == {"usd": 0}
        fees = ledger.balance(session, chart.STRIPE_FEES.code, "usd").amount
    assert fees == 5_00 + 4_00 + 4_00  # 0.8% capped at $5 of each debit; $4 for the return

    # Each day reconciles: the pending payments on theirs, the return on the settle day.
    for name, rows in ((PROCESSING_DAY, 2), (SETTLE_DAY, 1)):
        outcome = _day(world, name)
        assert (outcome.status, outcome.result.discrepancies) == ("clean", []), name
        assert outcome.result.counts.stripe_rows == outcome.result.counts.matched == rows

    # A refund of the settled debit is a payment_refund at Stripe and in the ledger.
    world.at(unix("2026-03-17 09:00"))
    with world.sessions() as session:
        payment = session.get(Payment, settles)
    assert payment is not None
    refund = world.refund(payment, 100_00)
    assert refund.stripe_refund_id and refund.stripe_refund_id.startswith("pyr_")
    assert "payment_refund" in _kinds(world, settles)
    outcome = _day(world, "2026-03-17")
    assert (outcome.status, outcome.result.counts.matched) == ("clean", 1)

    # The same days from Stripe's itemized report (charge_failure -> payment_failure_refund).
    for name, rows in ((PROCESSING_DAY, 2), (SETTLE_DAY, 1)):
        via_report = run_day(world.sessions, ReportRunSource(world.http(), poll_s=0.01), name)
        assert (via_report.status, via_report.result.discrepancies) == ("clean", []), name
        assert via_report.result.counts.matched == rows
