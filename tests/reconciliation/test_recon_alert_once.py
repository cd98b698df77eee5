"""Alerts go out once per new or changed finding: a re-run of an unchanged day sends nothing,
findings finance resolved are not alerted again, and a day whose findings are all resolved
says so in its run status and in the alert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alert_hook import Hook
from recon_plants import (
    DAY,
    base_day,
    oob_refund,
    plant_duplicate_in_ledger,
    plant_fee_mismatch,
    plant_missing_in_ledger,
)
from recon_world import World
from sqlalchemy import select

from models import Discrepancy
from models.db import transaction
from payments import adjustments
from reconciliation import casework
from reconciliation.service import RunOutcome, run_day
from reconciliation.stripe_source import ApiSource

FINANCE = casework.Actor("finance person")


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook(200)
    yield server
    server.close()


def rerun(world: World, hook: Hook) -> RunOutcome:
    return run_day(world.sessions, ApiSource(world.http()), DAY, alert_webhook_url=hook.url)


def resolve_all(world: World, outcome: RunOutcome) -> None:
    with world.sessions() as session:
        ids = list(
            session.scalars(select(Discrepancy.id).where(Discrepancy.run_id == outcome.run_id))
        )
    with transaction(world.sessions) as session:
        for discrepancy_id in ids:
            casework.resolve(session, discrepancy_id, FINANCE, "explained by the carrier")


def test_an_unchanged_rerun_and_resolved_findings_send_nothing_new(
    world: World, hook: Hook
) -> None:
    base = base_day(world)
    plant_fee_mismatch(world, base)
    plant_duplicate_in_ledger(world, base)
    first = rerun(world, hook)
    assert len(hook.bodies) == 1 and "2 new discrepancies" in hook.bodies[0]["text"]

    again = rerun(world, hook)
    assert again.status == "discrepancies" and len(hook.bodies) == 1  # nothing changed

    resolve_all(world, again)
    resolved = rerun(world, hook)
    assert resolved.status == "resolved" and len(hook.bodies) == 1  # resolved: not re-sent
    assert first.run_id < again.run_id < resolved.run_id

    plant_missing_in_ledger(world, base)
    changed = rerun(world, hook)
    assert changed.status == "discrepancies" and len(hook.bodies) == 2
    text = hook.bodies[1]["text"]
    assert "1 new discrepancy — 1 missing_in_ledger" in text
    assert "fee_mismatch" not in text and "duplicate_in_ledger" not in text


def test_a_day_whose_open_findings_are_gone_and_the_rest_resolved_is_reported_resolved(
    world: World, hook: Hook
) -> None:
    base = base_day(world)
    plant_fee_mismatch(world, base)
    first = rerun(world, hook)
    resolve_all(world, first)
    txn = oob_refund(world, base, 5_00, "13:00")  # a refund made in the Stripe Dashboard
    second = rerun(world, hook)
    assert second.status == "discrepancies" and len(hook.bodies) == 2
    with transaction(world.sessions) as session:  # booked by our own flow, not by casework
        adjustments.book_accepted(session, txn, "platform", "dashboard refund", "ops")
    third = rerun(world, hook)
    assert third.status == "resolved" and len(hook.bodies) == 3
    assert "resolved or accepted by finance; nothing is open" in hook.bodies[2]["text"]
