"""Send a message after the row it acts on is committed, without ever failing the caller.

If Redis is down at that moment the message is lost, but the row is not: the sweeper finds
rows that have not moved and enqueues them again (payments/sweeper.py). Messages go by name
(jobs/messages.py), so a process that only enqueues never imports the actors.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dramatiq.broker import Broker

from config import Settings
from jobs.broker import broker_if_set_up, make_broker
from jobs.messages import ActorRef

log = logging.getLogger(__name__)


def send_after_commit(
    broker: Broker, ref: ActorRef, *args: Any, safety_net: str = "the sweeper will pick it up"
) -> bool:
    """Enqueue; return False (and log, naming what sends it again) if the broker is
    unreachable."""
    try:
        broker.enqueue(ref.message(*args))
    except Exception as error:  # noqa: BLE001 - any broker failure: the safety net re-sends
        log.warning("could not enqueue %s%r (%s); %s", ref.name, args, error, safety_net)
        return False
    return True


@contextmanager
def command_broker(settings: Settings) -> Iterator[Broker]:
    """The broker a command-line call enqueues on, so the CLI never imports the actors: this
    process's own when it set one up (the demo, tests running the CLI in-process), else one
    built from `settings` and closed afterwards."""
    own = broker_if_set_up()
    if own is not None:
        yield own
        return
    broker = make_broker(settings)
    try:
        yield broker
    finally:
        broker.close()
