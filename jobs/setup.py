"""Set a process up to run actors: its settings, its broker, then every actor module."""

from __future__ import annotations

import importlib

from dramatiq.brokers.redis import RedisBroker

from config import Settings
from jobs import runtime
from jobs.broker import setup_broker

ACTOR_MODULES = (
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
)


def start(settings: Settings) -> RedisBroker:
    """The broker from `settings`, with every actor declared on it (idempotent)."""
    runtime.use_settings(settings)
    broker = setup_broker(settings)
    for name in ACTOR_MODULES:
        importlib.import_module(f"jobs.{name}")
    return broker
