"""A PaymentIntent another integration made on our Stripe account, carrying our metadata, is
not booked (payments.ownership) and reconciliation names the money it moved for finance."""

from __future__ import annotations

from collections import Counter

from recon_plants import DAY, base_day, kinds, reconcile, unix
from recon_world import World

from models.db import transaction
from payments import webhook_events


def test_a_foreign_intent_naming_our_payment_is_reported_missing_in_ledger(world: World) -> None:
    base_day(world)
    world.at(unix(f"{DAY} 13:00"))
    stripe = world.sdk()
    foreign = stripe.v1.payment_intents.create(
        params={
            "amount": 50,
            "currency": "usd",
            "payment_method": "pm_card_bypassPending",
            "confirm": True,
            "payment_method_types": ["card"],
            "metadata": {"payment_id": "1"},
        }
    )
    events = [
        e.to_dict()
        for e in stripe.v1.events.list(params={"limit": 100}).data
        if e.type == "payment_intent.succeeded" and e.data.object["id"] == foreign.id
    ]
    assert len(events) == 1
    with transaction(world.sessions) as session:
        row_id, _ = webhook_events.store_event(session, events[0])
    assert webhook_events.process_event(world.sessions, world.gateway, row_id) == "out_of_band"

    outcome = reconcile(world)
    assert kinds(outcome) == Counter({"missing_in_ledger": 1})
    (finding,) = outcome.result.discrepancies
    charge = foreign.latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id
    assert charge_id in finding.explanation and finding.stripe_amount == 50
