"""The nightly run covers every connected account with activity that day, whether our records
or only Stripe know of it: a transfer reversal on a carrier's account that no webhook told us
about, and an account made at Stripe that no carrier of ours has."""

from __future__ import annotations

import datetime as dt
from typing import Any

from recon_plants import base_day
from recon_world import World, unix
from sqlalchemy import select

from models import PayoutBatch, ReconciliationRun, ScheduledRun

NEXT_DAY = "2026-03-11"


def test_nightly_run_covers_accounts_whose_only_activity_was_at_stripe(
    world: World, worker: Any, broker: Any
) -> None:
    from jobs import reconciliation as recon_jobs
    from jobs import scheduled

    base = base_day(world)
    with world.sessions() as session:
        transfer_id = session.scalars(
            select(PayoutBatch.stripe_transfer_id).where(
                PayoutBatch.stripe_transfer_id.is_not(None)
            )
        ).one()
    world.at(unix(f"{NEXT_DAY} 10:00"))
    sdk = world.sdk()
    assert transfer_id is not None
    sdk.v1.transfers.reversals.create(transfer_id, params={"amount": 10_00})  # Dashboard
    stranger = sdk.v1.accounts.create(params={"type": "express", "country": "US"}).id
    world.sim(f"accounts/{stranger}/complete_onboarding")
    sdk.v1.transfers.create(params={"amount": 5_00, "currency": "usd", "destination": stranger})

    world.at(unix("2026-03-12 03:00"))
    recon_jobs.configure(world.http())
    try:
        scheduled.run_nightly_reconciliation.send(NEXT_DAY, "UTC")
        broker.join("scheduled")
        broker.join("reconciliation")
        worker.join()
    finally:
        recon_jobs.configure(None)

    with world.sessions() as session:
        runs = {
            r.account: r
            for r in session.scalars(
                select(ReconciliationRun).where(
                    ReconciliationRun.day == dt.date.fromisoformat(NEXT_DAY)
                )
            )
        }
        nightly = session.scalars(select(ScheduledRun).where(ScheduledRun.period == NEXT_DAY)).one()
    assert set(runs) == {"platform", base.account, stranger}
    assert {r.status for r in runs.values()} == {"discrepancies"}
    assert sorted(nightly.detail["covered"]) == sorted(["platform", base.account, stranger])
    assert sorted(nightly.detail["found_only_at_stripe"]) == sorted([base.account, stranger])
