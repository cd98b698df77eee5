"""The demo's schedule: each day's trading and faults, each night's scheduler jobs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from functools import partial

from demo.faults import CATALOGUE, Fault
from demo.marketplace import Marketplace, at
from demo.nightly import run_night

# After the last night the clock runs on a few days, so the last payouts reach the banks.
SETTLING_DAYS = 3
# ... and on, until the banks have answered the planted bank debits (4 business days).
MAX_SETTLING_DAYS = 8


def plan_faults(days: list[date]) -> list[Fault]:
    """Spread the catalogue over the week: day faults on trading days, night faults on nights
    with nights after them (a failed payout is retried by a later batch)."""
    nights = days[:-1] or days
    planned = []
    counters = {"day": 0, "night": 0}
    for prototype in CATALOGUE:
        when = "day" if prototype.when == "day" else "night"
        pool = days if when == "day" else nights
        planned.append(replace(prototype, day=pool[counters[when] % len(pool)]))
        counters[when] += 1
    return planned


def plant_after_batching(market: Marketplace, day: date, faults: list[Fault]) -> None:
    for fault in faults:
        if fault.day == day and fault.when == "after_batching":
            fault.plant(market, fault)
            fault.planted = True


def run_week(
    market: Marketplace,
    days: list[date],
    loads_per_day: int,
    faults: list[Fault],
    progress: Callable[[str], None],
) -> None:
    rng = random.Random(market.rng.random())
    for day in days:
        progress(f"{day}: {loads_per_day} loads paid")
        ids = market.pay_for_loads(day, loads_per_day)
        for fault in faults:
            if fault.day == day and fault.when == "day":
                more = fault.plant(market, fault)
                ids += more if isinstance(more, list) else []
                fault.planted = True
        market.stack.drain()
        market.refund_some(day, ids, share=rng.uniform(0.04, 0.08))
        market.stack.drain()
        for fault in faults:
            if fault.day == day and fault.when == "night":
                fault.plant(market, fault)
                fault.planted = True
        progress(f"{day}: night — sweeper, reconciliation, payout batching")
        run_night(market, day, after_batching=partial(plant_after_batching, market, day, faults))
    last = days[-1]
    extra = 0
    while extra < SETTLING_DAYS or (extra < MAX_SETTLING_DAYS and debits_processing(market)):
        extra += 1
        progress(f"{last + timedelta(days=extra)}: payouts settle")
        market.set_clock(at(last + timedelta(days=extra), 12))
        run_night(market, last + timedelta(days=extra), reconcile=False)


def debits_processing(market: Marketplace) -> bool:
    """Whether a planted bank debit still waits for its bank (4 business days)."""
    return any(
        market.api.get(f"/api/payments/{payment_id}")["status"] == "processing"
        for payment_id in market.returned_debits
    )
