"""Send a message after the row it acts on is committed, without ever failing the caller.

If Redis is down at that moment the message is lost, but the row is not: the sweeper finds
rows that have not moved and enqueues them again (payments/sweeper.py).
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq

log = logging.getLogger(__name__)


def send_after_commit(actor: dramatiq.Actor[Any, Any], *args: Any) -> bool:
    """Enqueue; return False (and log) if the broker is unreachable."""
    try:
        actor.send(*args)
    except Exception:  # noqa: BLE001 - any broker failure: the sweeper is the safety net
        log.warning("could not enqueue %s%r; the sweeper will pick it up", actor.actor_name, args)
        return False
    return True
