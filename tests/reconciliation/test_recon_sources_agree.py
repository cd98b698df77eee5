"""Every source gives the same answer for the same facts: the API, a report run at Stripe and
a downloaded itemized CSV all see a refund booked just before midnight whose balance
transaction is just after it as `timing`, not as `missing_in_stripe`."""

from __future__ import annotations

from pathlib import Path

import pytest
from recon_plants import DAY, base_day
from recon_world import World, unix

from reconciliation.service import run_day
from reconciliation.stripe_source import (
    ApiSource,
    CacheSource,
    ReportFileSource,
    ReportRunSource,
    StripeSource,
)
from reconciliation.window import day


def refund_across_midnight(world: World) -> str:
    base = base_day(world)
    payment = world.charge(base.shipper, base.carrier, 40_00, "usd")
    world.at(unix("2026-03-11 00:00:20"))
    refund = world.refund(payment, 15_00)
    posting = world.posting_of(str(refund.stripe_balance_transaction_id))
    world.rebook_at(posting, unix(f"{DAY} 23:59:40"))
    world.at(unix("2026-03-11 03:00"))  # the day is over: Stripe's report data covers it
    return str(refund.stripe_balance_transaction_id)


@pytest.mark.parametrize("source", ["api", "report", "file"])
def test_a_refund_booked_before_midnight_and_settled_after_is_timing_from_every_source(
    world: World, tmp_path: Path, source: str
) -> None:
    txn = refund_across_midnight(world)
    stripe: StripeSource
    if source == "api":
        stripe = ApiSource(world.http())
    elif source == "report":
        stripe = ReportRunSource(world.http(), poll_s=0.01)
    else:
        path = tmp_path / "itemized.csv"
        path.write_text(ReportRunSource(world.http()).fetch(day(DAY), "platform"))
        stripe = ReportFileSource(path, world.http())
    outcome = run_day(world.sessions, stripe, DAY)
    assert [(d.kind, d.stripe_balance_transaction) for d in outcome.result.discrepancies] == [
        ("timing", txn)
    ]


def test_a_report_without_stripe_access_uses_the_local_copy_for_the_margins(
    world: World, tmp_path: Path
) -> None:
    txn = refund_across_midnight(world)
    run_day(world.sessions, ApiSource(world.http()), DAY)  # fills the local copy
    path = tmp_path / "itemized.csv"
    path.write_text(ReportRunSource(world.http()).fetch(day(DAY), "platform"))
    for stripe in (ReportFileSource(path), CacheSource()):
        outcome = run_day(world.sessions, stripe, DAY)
        assert [(d.kind, d.stripe_balance_transaction) for d in outcome.result.discrepancies] == [
            ("timing", txn)
        ]
