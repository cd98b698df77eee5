"""A usd-settling platform charging in jpy, cad and eur: the ledger books what Stripe moved
(the usd balance transactions, conversion fee included), keeps the presented amount and rate on
the payment and refund rows, pays the carrier's share in usd, and each day reconciles clean
through the real reconciliation (Stripe's API source, run_day).

Stripe's rules: docs.stripe.com/currencies ("Currency presentment and settlement": charges in a
currency the account cannot settle in are converted into its settlement currency; refunds are
converted again at that day's rate); stripe.com/pricing (US: +1% when conversion is required).
"""

from __future__ import annotations

from decimal import Decimal

from recon_world import World, unix
from sqlalchemy import select

from models import LedgerAccount
from models.db import transaction
from payments import chart, ledger, payouts
from reconciliation.service import run_day
from reconciliation.stripe_source import ApiSource, ReportRunSource

DAY_1, DAY_2 = "2026-03-10", "2026-03-11"


def _fix_rates(world: World, day: str, **pairs: str) -> None:
    world.sim(
        "fx",
        {"fixed": {str(unix(f"{day} 00:00")): {f"{c}:usd": rate for c, rate in pairs.items()}}},
    )


def test_a_usd_platform_day_in_jpy_cad_and_eur_reconciles_clean(world: World) -> None:
    _fix_rates(world, DAY_1, jpy="0.0067", cad="0.73", eur="1.08")
    _fix_rates(world, DAY_2, jpy="0.0068", cad="0.74", eur="1.09")
    world.at(unix(f"{DAY_1} 09:00"))
    shipper = world.shipper()
    carrier, account = world.carrier("usd")
    world.at(unix(f"{DAY_1} 10:00"))
    usd = world.charge(shipper, carrier, 100_00, "usd")
    jpy = world.charge(shipper, carrier, 150_000, "jpy")
    cad = world.charge(shipper, carrier, 200_00, "cad")
    eur = world.charge(shipper, carrier, 80_00, "eur")

    # Booked as Stripe moved it: usd, with the presented amount and the rate beside it.
    assert (jpy.amount, jpy.currency) == (150_000, "jpy")
    assert (jpy.settlement_amount, jpy.settlement_currency) == (1_005_00, "usd")
    assert jpy.exchange_rate == Decimal("0.0067")
    txn = world.stripe_txn(str(jpy.stripe_balance_transaction_id))
    assert jpy.settlement_fee == txn.fee == (29_15 + 30) + 10_05  # card fee + 1% conversion
    # carrier_amount (80% of the jpy price) at the charge's own rate, rounded down.
    assert jpy.carrier_settlement_amount == 120_000 * 1_005_00 // 150_000 == 804_00
    assert (cad.settlement_amount, cad.carrier_settlement_amount) == (146_00, 116_80)
    assert (eur.settlement_amount, eur.carrier_settlement_amount) == (86_40, 69_12)
    assert usd.exchange_rate is None and usd.settlement_amount == 100_00

    world.at(unix(f"{DAY_1} 11:00"))
    cad_refund = world.refund(cad, 50_00)
    assert (cad_refund.settlement_amount, cad_refund.exchange_rate) == (36_50, Decimal("0.73"))

    world.at(unix(f"{DAY_1} 12:00"))
    with world.sessions() as session:
        owed = payouts.owed_to_carrier(session, carrier, "usd")
    # 80.00 + 804.00 + 116.80 + 69.12 less the carrier's 80% of the 36.50 usd refunded
    assert owed == 80_00 + 804_00 + 116_80 + 69_12 - 29_20
    transfer = world.transfer(carrier, owed, "usd")
    payout = world.payout(carrier, owed, "usd")
    assert transfer.stripe_transfer_id and payout.stripe_payout_id

    # Day 2: a refund of the jpy load at that day's rate; the carrier, already paid, owes
    # their share back as a receivable (in usd).
    world.at(unix(f"{DAY_2} 10:00"))
    jpy_refund = world.refund(jpy, 30_000)
    assert (jpy_refund.settlement_amount, jpy_refund.settlement_currency) == (204_00, "usd")
    assert jpy_refund.exchange_rate == Decimal("0.0068")

    with transaction(world.sessions) as session:
        currencies = set(session.scalars(select(LedgerAccount.currency)))
        receivable = ledger.balance(session, chart.carrier_receivable(carrier).code, "usd")
        assert ledger.trial_balance(session) == {"usd": 0}
    assert currencies == {"usd"}  # nothing booked in a currency Stripe did not move
    assert receivable.amount == 204_00 * 120_000 // 150_000

    world.at(unix("2026-03-12 03:00"))  # both days are over (Stripe's report data too)
    http = ApiSource(world.http())
    for day, rows in ((DAY_1, 6), (DAY_2, 1)):  # day 1: 4 charges, a refund, the transfer
        platform = run_day(world.sessions, http, day, "platform", "UTC")
        assert (platform.status, platform.result.discrepancies) == ("clean", []), day
        assert {t.currency for t in platform.result.totals} == {"usd"}
        assert platform.result.counts.stripe_rows == platform.result.counts.matched == rows
        via_report = run_day(world.sessions, ReportRunSource(world.http(), poll_s=0.01), day)
        assert (via_report.status, via_report.result.counts.matched) == ("clean", rows), day
    carrier_day = run_day(world.sessions, http, DAY_1, account, "UTC")
    assert (carrier_day.status, carrier_day.result.discrepancies) == ("clean", [])
