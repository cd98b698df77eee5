"""Explanations finance can act on: what a finding belongs to (charge, PaymentIntent, our
payment, load, customer and carrier by name), chargebacks read as such with the fee, a
transfer reversal on a carrier's account named with its transfer, timing that says no action
is needed, and carrier names next to their acct_ ids."""

from __future__ import annotations

from recon_plants import DAY, base_day, oob_refund, reconcile
from recon_world import World, unix
from sqlalchemy import select

from models import Carrier, Load, Payment, PayoutBatch, Shipper
from reconciliation import exports


def parties_of(world: World, payment_intent: str) -> tuple[Payment, str, str, str]:
    with world.sessions() as session:
        payment = session.scalars(
            select(Payment).where(Payment.stripe_payment_intent_id == payment_intent)
        ).one()
        load = session.get(Load, payment.load_id)
        shipper = session.get(Shipper, payment.shipper_id)
        carrier = session.get(Carrier, payment.carrier_id)
        assert load and shipper and carrier
        return payment, load.external_id, shipper.name, carrier.name


def test_an_out_of_band_refund_names_everything_it_belongs_to(world: World) -> None:
    base = base_day(world)
    oob_refund(world, base, 5_00, "13:00")
    (finding,) = reconcile(world).result.discrepancies
    payment, load, customer, carrier = parties_of(world, base.usd_charge_pi)
    text = finding.explanation
    assert finding.kind == "missing_in_ledger"
    for expected in (
        base.usd_charge_id,
        base.usd_charge_pi,
        f"our payment {payment.id}",
        f"load {load}",
        f"customer {customer}",
        f"carrier {carrier} ({base.account})",
    ):
        assert expected in text, (expected, text)


def test_a_dispute_reads_as_a_chargeback_with_its_charge_amount_and_fee(world: World) -> None:
    base = base_day(world)
    world.at(unix(f"{DAY} 17:00"))
    world.sim(f"charges/{base.usd_charge_id}/dispute", {"reason": "fraudulent", "amount": 20_00})
    outcome = reconcile(world)
    (finding,) = [d for d in outcome.result.discrepancies if d.stripe_type == "adjustment"]
    text = finding.explanation
    assert text.startswith("Chargeback:")
    assert "$20.00" in text and "$15.00 dispute fee" in text and "$35.00 lower" in text
    assert base.usd_charge_id in text and "evidence is due by" in text
    usd = next(t for t in outcome.result.totals if t.currency == "usd")
    assert usd.difference_net == -35_00  # the day's impact includes the fee


def test_a_transfer_reversal_on_a_carriers_account_is_named_with_its_transfer(
    world: World,
) -> None:
    base = base_day(world)
    with world.sessions() as session:
        transfer_id = session.scalars(
            select(PayoutBatch.stripe_transfer_id).where(
                PayoutBatch.stripe_transfer_id.is_not(None)
            )
        ).one()
        carrier = session.scalars(
            select(Carrier.name).where(Carrier.stripe_account_id == base.account)
        ).one()
    assert transfer_id is not None
    world.at(unix(f"{DAY} 18:00"))
    world.sdk().v1.transfers.reversals.create(transfer_id, params={"amount": 10_00})
    outcome = reconcile(world, base.account)
    (finding,) = outcome.result.discrepancies
    assert finding.kind == "missing_in_ledger"
    assert "transfer reversal" in finding.explanation
    assert transfer_id in finding.explanation and f"carrier {carrier}" in finding.explanation
    with world.sessions() as session:
        report = exports.run_report(session, outcome.run_id)
    assert report["account_name"] == carrier


def test_timing_says_no_action_is_needed_and_when_it_clears(world: World) -> None:
    from recon_plants import plant_timing

    base = base_day(world)
    plant_timing(world, base)
    (finding,) = reconcile(world).result.discrepancies
    assert finding.kind == "timing"
    assert "no action is needed, it clears once 2026-03-11 is reconciled" in finding.explanation
