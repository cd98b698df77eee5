"""A planted day for the hash-slice tests (test_recon_slices.py, test_recon_staging.py), and
the findings of a stored run in a comparable form."""

from __future__ import annotations

from typing import Any

from recon_plants import DAY, PLANTS, base_day, oob_refund
from recon_world import World, unix
from sqlalchemy import select

from models import Discrepancy

PLATFORM_PLANTS = [plant for name, plant in PLANTS.items() if name != "status_mismatch"]


def planted_day(world: World) -> None:
    base = base_day(world)
    # Booked with the right balance transaction but a mistyped source id: it must go to the
    # slice of its Stripe row, not to the hash of the id it claims.
    txn = oob_refund(world, base, 4_00, "10:30")
    world.book(
        kind="refund", amount=-4_00, occurred_at=unix(f"{DAY} 10:30"), txn=txn, source="re_typo"
    )
    for plant in PLATFORM_PLANTS:
        plant(world, base)
    world.at(unix("2026-03-11 12:00"))


def findings(world: World, run_id: int) -> list[tuple[Any, ...]]:
    with world.sessions() as session:
        rows = session.scalars(select(Discrepancy).where(Discrepancy.run_id == run_id)).all()
        return sorted(
            (
                d.kind,
                d.fingerprint,
                d.stripe_balance_transaction,
                tuple(d.ledger_refs),
                d.matched_by,
                d.difference,
                d.explanation,
            )
            for d in rows
        )
