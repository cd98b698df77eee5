"""Transient failures become delayed Dramatiq retries, bounded; exhausted ones park the row.

Stripe's Retry-After (429, 409 key in use) and the circuit breaker's cooldown set the least
delay; repeated failures of one message back off exponentially (BACKOFF_BASE_MS doubling up to
MAX_BACKOFF_MS), so about an hour of Stripe or database trouble is ridden out. After
MAX_RETRIES, Dramatiq's Retries middleware gives up and sends the message to
`park_exhausted_retries` (its `on_retry_exhausted` option), which puts the payment, refund or
payout batch in needs-attention with the last error (payments/attention.py) instead of
retrying forever. Final errors (declines, refusals) never reach here: the services record them
on the row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy.exc import DBAPIError, OperationalError

from jobs.messages import PARK_EXHAUSTED_RETRIES
from payments.errors import RateDeferred, StripeUnavailable

log = logging.getLogger(__name__)

DATABASE_RETRY_MS = 1000
MAX_RETRIES = 20
BACKOFF_BASE_MS = 1000
MAX_BACKOFF_MS = 300_000
EXHAUSTED_ACTOR = PARK_EXHAUSTED_RETRIES.name


def backoff_ms(retries: int) -> int:
    """The least delay before retry number `retries + 1` of one message (0 for the first)."""
    if retries <= 0:
        return 0
    return min(BACKOFF_BASE_MS * 2 ** (retries - 1), MAX_BACKOFF_MS)


def _retries_so_far() -> int:
    message = CurrentMessage.get_current_message()
    return int(message.options.get("retries", 0)) if message is not None else 0


@contextmanager
def retry_transient_failures() -> Iterator[None]:
    try:
        yield
    except RateDeferred as error:
        # Our own budget, not a failure: come back when it has room, with no backoff.
        delay_ms = max(1, int(error.retry_after_s * 1000))
        log.info("stripe budget booked ahead, retrying in %d ms", delay_ms)
        raise dramatiq.Retry(str(error), delay=delay_ms) from error
    except StripeUnavailable as error:
        delay_ms = max(int(error.retry_after_s * 1000), backoff_ms(_retries_so_far()))
        log.info("stripe unavailable, retrying in %d ms: %s", delay_ms, error)
        raise dramatiq.Retry(str(error), delay=delay_ms) from error
    except DBAPIError as error:
        # Lost connections (a PostgreSQL restart) are transient; constraint errors are bugs.
        if not (isinstance(error, OperationalError) or error.connection_invalidated):
            raise
        delay_ms = max(DATABASE_RETRY_MS, backoff_ms(_retries_so_far()))
        log.info("database unavailable, retrying in %d ms", delay_ms)
        raise dramatiq.Retry("database unavailable", delay=delay_ms) from error


ACTOR_OPTIONS: dict[str, Any] = {
    "max_retries": MAX_RETRIES,
    "max_backoff": MAX_BACKOFF_MS,
    "on_retry_exhausted": EXHAUSTED_ACTOR,
}
