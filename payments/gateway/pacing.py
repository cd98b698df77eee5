"""A process-local pacer for Stripe requests: evenly spaced starts, at most `rate` a second.

Stripe limits requests per second over a continuous window (https://docs.stripe.com/rate-limits:
sandbox 25/s, live mode 100/s) and answers 429 beyond it. Workers share the Redis limiter
(jobs/stripe_guard.py) across processes; this pacer sits in the HTTP client itself, so every
client built by make_stripe_client — workers, the web app, reconciliation fetches, tools and
tests — stays under STRIPE_RATE_LIMIT_PER_S within its own process even where no shared guard
is installed. Spacing starts 1/rate apart (rather than allowing bursts) keeps any one-second
window at or under `rate` when the ceiling is measured as a sliding window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
import stripe
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from payments.gateway.guard import Sent


class Pacer:
    def __init__(self, rate_per_s: float) -> None:
        self.interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._lock = threading.Lock()
        self._next_at = 0.0

    def wait(self) -> None:
        """Block until this caller's slot; slots are handed out in arrival order."""
        if self.interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_at)
            self._next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


_shared: dict[float, Pacer] = {}
_shared_lock = threading.Lock()


def shared_pacer(rate_per_s: float) -> Pacer:
    """One pacer per rate for the whole process (every client of one key shares it)."""
    with _shared_lock:
        pacer = _shared.get(rate_per_s)
        if pacer is None:
            pacer = _shared[rate_per_s] = Pacer(rate_per_s)
        return pacer


# What this thread's request in progress calls once it is on the wire (see _ReportingAdapter),
# and the wait that replaces the client's own for this thread's calls (waiting_on).
_in_progress = threading.local()


@contextmanager
def waiting_on(wait: Callable[[], Sent | None] | None) -> Iterator[None]:
    """This thread's requests wait on `wait` instead of their client's own (None: no change):
    one client, several budgets (the web's reads take their own)."""
    if wait is None:
        yield
        return
    _in_progress.wait = wait
    try:
        yield
    finally:
        _in_progress.wait = None


def _report_sent() -> None:
    sent: Sent | None = getattr(_in_progress, "sent", None)
    _in_progress.sent = None
    if sent is not None:
        sent()


class _ReportingHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # headers and body written to the socket
        _report_sent()


class _ReportingHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        _report_sent()


class _ReportingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _ReportingHTTPConnection


class _ReportingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _ReportingHTTPSConnection


class _ReportingAdapter(HTTPAdapter):
    """requests' adapter whose connections report the moment a request has been written, before
    the answer is awaited: between them, the request is in Stripe's hands."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _ReportingHTTPPool,
            "https": _ReportingHTTPSPool,
        }


def _reporting_session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", _ReportingAdapter())
    session.mount("https://", _ReportingAdapter())
    return session


class WaitingRequestsClient(stripe.RequestsClient):
    """The SDK's requests-based HTTP client, waiting right before each attempt goes out (the
    SDK's own retries too): for a Pacer's slot, or a shared guard's (jobs/stripe_guard.py).
    A guard that counts sends gets told when each attempt is on the wire (or, through a proxy
    or on an error, when the attempt ends: later than the send, never earlier)."""

    def __init__(self, wait: Callable[[], Sent | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wait = wait

    def _request_internal(self, *args: Any, **kwargs: Any) -> Any:
        sent = (getattr(_in_progress, "wait", None) or self._wait)()
        if sent is None:
            return super()._request_internal(*args, **kwargs)
        # The SDK keeps one session per thread; this thread's is one that reports its sends.
        if getattr(self._thread_local, "session", None) is None:
            self._thread_local.session = _reporting_session()
        _in_progress.sent = sent
        try:
            return super()._request_internal(*args, **kwargs)
        finally:
            _report_sent()  # a no-op when the connection reported it already
