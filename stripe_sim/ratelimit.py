"""Stripe's global API rate limit: a sliding one-second window per secret key.

Source: https://docs.stripe.com/rate-limits ("Global API rate limit: live mode 100
requests per second, sandbox 25 requests per second"; a request over it gets
`429 Too Many Requests` with error code `rate_limit` and the `Stripe-Rate-Limited-Reason`
header). The window is continuous (the last 1.0 s of wall time, not calendar seconds), so a
burst at the turn of a second is limited too. Keys starting `sk_live_` (or `rk_live_`) get
the live limit, every other key the sandbox one. 0 lifts a limit.
"""

from __future__ import annotations

import bisect
import threading
import time

WINDOW_S = 1.0


def is_live_key(key: str) -> bool:
    return key.startswith(("sk_live_", "rk_live_"))


class RateLimiter:
    def __init__(self, test_per_s: int, live_per_s: int) -> None:
        self.test_per_s = test_per_s
        self.live_per_s = live_per_s
        self._lock = threading.Lock()
        self._admitted: dict[str, list[float]] = {}

    def limit_for(self, key: str) -> int:
        return self.live_per_s if is_live_key(key) else self.test_per_s

    def configure(self, *, test_per_s: int | None = None, live_per_s: int | None = None) -> None:
        with self._lock:
            if test_per_s is not None:
                self.test_per_s = test_per_s
            if live_per_s is not None:
                self.live_per_s = live_per_s
            self._admitted.clear()

    def describe(self) -> dict[str, int]:
        return {"test_per_s": self.test_per_s, "live_per_s": self.live_per_s}

    def admit(self, key: str, now: float | None = None) -> bool:
        """Count one request for `key` arriving at `now` (unix s; default: this instant);
        False when the second before it already holds the limit (then it is not counted).

        Requests are counted when they arrived, not when a busy handler thread got to them,
        so they may come in slightly out of order: the window is kept sorted."""
        limit = self.limit_for(key)
        if limit <= 0:
            return True
        now = time.time() if now is None else now
        with self._lock:
            window = self._admitted.setdefault(key, [])
            newest = max(now, window[-1]) if window else now
            del window[: bisect.bisect_right(window, newest - 2 * WINDOW_S)]
            earlier = bisect.bisect_right(window, now) - bisect.bisect_right(window, now - WINDOW_S)
            if earlier >= limit:
                return False
            bisect.insort(window, now)
            return True
