"""End to end: jobs' services against stripe_sim, faults planted out of band at Stripe or in
the ledger, then `run_day` over the API source. Every planted discrepancy is reported with
the right kind, and nothing else is."""

from __future__ import annotations

from collections import Counter

import pytest
from recon_plants import PLANTS, base_day, kinds, reconcile
from recon_world import World


def test_a_clean_day_is_clean_on_the_platform_and_the_carrier_account(world: World) -> None:
    base = base_day(world)
    platform = reconcile(world)
    carrier = reconcile(world, base.account)
    assert (platform.status, platform.result.discrepancies) == ("clean", [])
    assert (carrier.status, carrier.result.discrepancies) == ("clean", [])
    assert platform.result.counts.stripe_rows == 5  # 3 charges, a refund, a transfer
    assert platform.result.counts.matched == 5
    assert carrier.result.counts.stripe_rows == 2  # the transfer received, the payout
    totals = {t.currency: t for t in platform.result.totals}
    assert set(totals) == {"usd", "jpy", "kwd"}
    assert totals["jpy"].stripe_amount == 15_000 and totals["kwd"].stripe_amount == 12_345
    assert all(t.difference_net == 0 for t in totals.values())


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_each_planted_discrepancy_alone(world: World, kind: str) -> None:
    base = base_day(world)
    account = PLANTS[kind](world, base)
    other = base.account if account == "platform" else "platform"
    outcome = reconcile(world, account)
    assert kinds(outcome) == Counter({kind: 1}), [
        d.explanation for d in outcome.result.discrepancies
    ]
    assert outcome.status == "discrepancies"
    assert reconcile(world, other).status == "clean"


def test_all_planted_discrepancies_together(world: World) -> None:
    base = base_day(world)
    accounts = Counter(plant(world, base) for plant in PLANTS.values())
    platform = reconcile(world)
    carrier = reconcile(world, base.account)
    assert accounts == Counter({"platform": 9, base.account: 1})
    assert kinds(platform) == Counter({k: 1 for k in PLANTS if k != "status_mismatch"})
    assert kinds(carrier) == Counter({"status_mismatch": 1})
    by_kind = {d.kind: d for d in platform.result.discrepancies}
    assert by_kind["missing_in_ledger"].stripe_amount == -5_00
    assert (
        by_kind["missing_in_stripe"].ledger_refs
        and by_kind["missing_in_stripe"].stripe_amount is None
    )
    assert by_kind["amount_mismatch"].difference == -7_00 - -70_00
    assert by_kind["fee_mismatch"].difference == 50 and by_kind["fee_mismatch"].currency == "jpy"
    assert by_kind["currency_mismatch"].ledger_currency == "eur"
    assert by_kind["duplicate_in_ledger"].currency == "kwd"
    assert len(by_kind["duplicate_in_ledger"].ledger_refs) == 2
    assert "2026-03-11" in by_kind["timing"].explanation
    assert by_kind["probable_match"].ledger_refs
    dispute = by_kind["unexpected_type"]
    assert dispute.stripe_type == "adjustment" and dispute.stripe_source.startswith("du_")
    status = carrier.result.discrepancies[0]
    assert status.stripe_source == base.payout_id and "failed" in status.explanation
