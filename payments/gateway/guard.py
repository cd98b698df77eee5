"""A hook around every Stripe call for shared rate limiting and circuit breaking.

The gateway knows nothing of Redis or Dramatiq; the jobs layer supplies a guard whose state is
shared by all workers (see jobs/stripe_guard.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Called once a request is on the wire (or failed before it got there).
Sent = Callable[[], None]


class CallGuard(Protocol):
    def before_send(self) -> Sent | None:
        """Block briefly or raise StripeUnavailable/CircuitOpen when a call must wait. The HTTP
        client calls what it returns once the request has gone out: a guard that counts sends
        can then count each when Stripe sees it, not when it was let through."""

    def record_success(self) -> None: ...

    def record_failure(self) -> None:
        """Stripe failed transiently (429, 5xx, timeout)."""


class NoGuard:
    """For tests and one-off tools: no limit, no breaker."""

    def before_send(self) -> Sent | None:
        return None

    def record_success(self) -> None:
        return None

    def record_failure(self) -> None:
        return None
