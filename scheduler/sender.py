"""How the scheduler enqueues: Dramatiq messages by actor name, on its own Redis connection.

The scheduler does not import the `jobs` package (which loads every actor, reconciliation's
pandas among them, and builds database engines); it only needs the names of the periodic
actors in jobs/scheduled.py, which a test checks against the registered actors. A send that
fails (Redis down at fire time) is logged, not raised: the catch-up check re-sends every
period not done once Redis is back.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

log = logging.getLogger(__name__)

QUEUE = "scheduled"
NIGHTLY_RECONCILIATION = "run_nightly_reconciliation"
PAYOUT_BATCHING = "run_payout_batching"
SWEEP = "scheduled_sweep"
CATCH_UP = "catch_up"
ACTORS = (NIGHTLY_RECONCILIATION, PAYOUT_BATCHING, SWEEP, CATCH_UP)


class Sender:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    @classmethod
    def to_redis(cls, url: str) -> Sender:
        return cls(RedisBroker(url=url))

    def send(self, actor_name: str, *args: Any) -> bool:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=QUEUE, actor_name=actor_name, args=args, kwargs={}, options={}
        )
        try:
            self.broker.enqueue(message)
        except Exception as error:  # noqa: BLE001 - any broker failure: catch-up re-sends
            log.error(
                "could not enqueue %s%r (%s); the catch-up check will send it again",
                actor_name,
                args,
                error,
            )
            return False
        log.info("enqueued %s%r", actor_name, args)
        return True
