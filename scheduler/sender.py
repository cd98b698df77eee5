"""How the scheduler enqueues: Dramatiq messages by actor name, on its own Redis connection.

The scheduler does not import the actors (which load reconciliation's pandas among them and
build database engines); it sends the periodic actors' references from jobs/messages.py, the
one place that names messages, which the actors in jobs/scheduled.py are declared from. A send
that fails (Redis down at fire time) is logged, not raised: the catch-up check re-sends every
period not done once Redis is back.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from jobs.enqueue import send_after_commit
from jobs.messages import ActorRef

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    @classmethod
    def to_redis(cls, url: str) -> Sender:
        return cls(RedisBroker(url=url))

    def send(self, ref: ActorRef, *args: Any) -> bool:
        sent = send_after_commit(
            self.broker, ref, *args, safety_net="the catch-up check will send it again"
        )
        if sent:
            log.info("enqueued %s%r", ref.name, args)
        return sent
