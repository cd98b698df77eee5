"""A hook around every Stripe call for shared rate limiting and circuit breaking.

The gateway knows nothing of Redis or Dramatiq; the jobs layer supplies a guard whose state is
shared by all workers (see jobs/stripe_guard.py).
"""

from __future__ import annotations

from typing import Protocol


class CallGuard(Protocol):
    def before_call(self) -> None:
        """Block briefly or raise StripeUnavailable/CircuitOpen when a call must wait."""

    def record_success(self) -> None: ...

    def record_failure(self) -> None:
        """Stripe failed transiently (429, 5xx, timeout)."""


class NoGuard:
    """For tests and one-off tools: no limit, no breaker."""

    def before_call(self) -> None:
        return None

    def record_success(self) -> None:
        return None

    def record_failure(self) -> None:
        return None
