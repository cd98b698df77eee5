"""Disputes booked from Stripe's events as they happen — the withdrawal (amount and fee) and a
won dispute's reinstatement — so the nightly run is clean when the ledger agrees with Stripe;
open disputes listed for finance with the evidence due date."""

from __future__ import annotations

from typing import Any

from recon_plants import DAY, base_day, reconcile
from recon_world import World, unix
from sqlalchemy import select

from models import Dispute, Posting
from payments import disputes, ledger
from reconciliation.service import run_day
from reconciliation.stripe_source import ApiSource


def dispute_postings(world: World) -> list[Posting]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(Posting).where(Posting.dedupe_key.like("dispute:%")).order_by(Posting.id)
            )
        )


def account_balance(world: World, code: str) -> int:
    with world.sessions() as session:
        return ledger.balance(session, code, "usd").amount


def test_a_dispute_is_booked_as_it_happens_and_the_day_reconciles_clean(world: World) -> None:
    base = base_day(world)
    world.at(unix(f"{DAY} 17:00"))
    dispute: Any = world.sim(
        f"charges/{base.usd_charge_id}/dispute", {"reason": "fraudulent", "amount": 20_00}
    )
    assert set(world.deliver_events("charge.dispute.")) == {"processed"}
    (withdrawal,) = dispute_postings(world)
    assert withdrawal.stripe_source == dispute["id"] and withdrawal.kind == "adjustment"
    assert account_balance(world, "disputes") == 20_00
    assert account_balance(world, "dispute_fees") == 15_00
    assert reconcile(world).status == "clean"

    with world.sessions() as session:
        (listed,) = disputes.open_disputes(session)
    assert (listed.stripe_dispute_id, listed.stripe_charge_id) == (
        dispute["id"],
        base.usd_charge_id,
    )
    assert (listed.amount, listed.currency, listed.status) == (20_00, "usd", "needs_response")
    assert listed.evidence_due_by is not None and listed.payment_id is not None

    # Won later (the next day): both come back, booked from funds_reinstated.
    world.at(unix("2026-03-11 10:00"))
    world.sim(f"disputes/{dispute['id']}/resolve", {"status": "won"})
    world.deliver_events("charge.dispute.")
    assert len(dispute_postings(world)) == 2
    assert account_balance(world, "disputes") == 0
    assert account_balance(world, "dispute_fees") == 0
    assert reconcile(world).status == "clean"
    world.at(unix("2026-03-12 03:00"))
    assert run_day(world.sessions, ApiSource(world.http()), "2026-03-11").status == "clean"
    with world.sessions() as session:
        assert disputes.open_disputes(session) == []
        won = session.scalars(select(Dispute)).one()
        assert won.status == "won"
        assert ledger.trial_balance(session) == {"usd": 0, "jpy": 0, "kwd": 0}
