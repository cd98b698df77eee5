"""Dramatiq actors, one module per flow. `dramatiq jobs` loads the broker, then every actor."""

from jobs import (
    broker,  # noqa: F401  (must come first: actors bind to the broker at import)
    carriers,
    charges,
    customers,
    parking,
    payouts,
    reconciliation,
    refunds,
    scheduled,
    sweeper,
    webhooks,
)

__all__ = [
    "carriers",
    "charges",
    "customers",
    "parking",
    "payouts",
    "reconciliation",
    "refunds",
    "scheduled",
    "sweeper",
    "webhooks",
]
