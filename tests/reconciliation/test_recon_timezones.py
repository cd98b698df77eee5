"""Days in a time zone other than UTC: the window follows local midnights, including the
23-hour day when New York springs forward, and activity near midnight lands on the right day."""

from __future__ import annotations

from recon_world import World, unix

from reconciliation.service import run_day
from reconciliation.stripe_source import ApiSource
from reconciliation.window import day

NY = "America/New_York"


def test_dst_day_in_new_york_takes_exactly_its_23_hours(world: World) -> None:
    world.at(unix("2026-03-07 12:00", NY))
    shipper = world.shipper()
    carrier, _ = world.carrier()
    times = {
        "before": "2026-03-07 23:30",  # the evening before: not this day
        "first": "2026-03-08 00:30",  # EST, UTC-5
        "last": "2026-03-08 23:30",  # EDT, UTC-4: already 2026-03-09 in UTC
        "after": "2026-03-09 00:10",
    }
    txns = {}
    for name, local in times.items():
        world.at(unix(local, NY))
        txns[name] = world.charge(shipper, carrier, 10_00).stripe_balance_transaction_id
    window = day("2026-03-08", NY)
    assert window.seconds == 23 * 3600

    ny = run_day(world.sessions, ApiSource(world.http()), "2026-03-08", "platform", NY)
    assert ny.status == "clean" and ny.result.counts.stripe_rows == 2
    matched = set(ny.result.matched["balance_transaction"])
    assert {txns["first"], txns["last"]} <= matched
    # The same activity by the UTC day: "before" (04:30 UTC) and "first" (05:30 UTC) fall on
    # 2026-03-08 UTC, "last" does not.
    utc = run_day(world.sessions, ApiSource(world.http()), "2026-03-08", "platform", "UTC")
    assert utc.result.counts.stripe_rows == 2


def test_a_posting_dated_after_local_midnight_is_timing_not_missing(world: World) -> None:
    world.at(unix("2026-03-08 12:00", NY))
    shipper = world.shipper()
    carrier, _ = world.carrier()
    world.at(unix("2026-03-08 23:50", NY))
    payment = world.charge(shipper, carrier, 64_00)
    world.rebook_at(
        world.posting_of(str(payment.stripe_balance_transaction_id)),
        unix("2026-03-09 00:20", NY),
    )
    outcome = run_day(world.sessions, ApiSource(world.http()), "2026-03-08", "platform", NY)
    (finding,) = outcome.result.discrepancies
    assert finding.kind == "timing"
    assert "2026-03-08 23:50 EDT" in finding.explanation
    assert "2026-03-09 00:20 EDT" in finding.explanation
