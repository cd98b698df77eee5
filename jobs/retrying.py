"""Turn transient failures into delayed Dramatiq retries, so jobs wait rather than fail.

Stripe's Retry-After (429) and the circuit breaker's cooldown set the delay; a database that
is restarting gets a short one. Final errors (declines, refusals) never reach here: the
services record them on the row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
from sqlalchemy.exc import DBAPIError, OperationalError

from payments.errors import StripeUnavailable

log = logging.getLogger(__name__)

DATABASE_RETRY_MS = 1000
# Transient failures may last long (a Stripe outage); the sweeper catches anything beyond this.
MAX_RETRIES = 500
MAX_BACKOFF_MS = 60_000


@contextmanager
def retry_transient_failures() -> Iterator[None]:
    try:
        yield
    except StripeUnavailable as error:
        delay_ms = int(error.retry_after_s * 1000)
        log.info("stripe unavailable, retrying in %d ms: %s", delay_ms, error)
        raise dramatiq.Retry(str(error), delay=delay_ms) from error
    except DBAPIError as error:
        # Lost connections (a PostgreSQL restart) are transient; constraint errors are bugs.
        if not (isinstance(error, OperationalError) or error.connection_invalidated):
            raise
        log.info("database unavailable, retrying in %d ms", DATABASE_RETRY_MS)
        raise dramatiq.Retry("database unavailable", delay=DATABASE_RETRY_MS) from error


ACTOR_OPTIONS: dict[str, Any] = {"max_retries": MAX_RETRIES, "max_backoff": MAX_BACKOFF_MS}
