"""Per-key rate limit in Redis: a fixed window counter (INCR + EXPIRE in one round trip).

Shared by every gunicorn worker. If Redis cannot be reached the request is let through and
the failure logged: the limit protects us; it must not take the payments API down with Redis.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from flask import g

from web.context import state
from web.errors import RateLimited
from web.keys import KeyInfo

log = logging.getLogger(__name__)


def count_in_window(name: str, window_s: int) -> tuple[int, int] | None:
    """Count one request against `name` in the current fixed window: (count so far, seconds
    until the window resets), or None when Redis cannot be reached (let through, logged)."""
    now = time.time()
    window = int(now // window_s)
    redis_key = f"midway:ratelimit:{name}:{window}"
    try:
        pipe = state().redis.pipeline(transaction=False)
        pipe.incr(redis_key)
        pipe.expire(redis_key, window_s + 1)
        count, _ = pipe.execute()
    except redis.RedisError:
        log.warning("rate limit %s unavailable (Redis error); request let through", name)
        return None
    return int(count), max(1, math.ceil((window + 1) * window_s - now))


def check_rate(key: KeyInfo) -> None:
    limit, window_s = state().rate_limit
    counted = count_in_window(key.prefix, window_s)
    if counted is None:
        return
    count, reset_in = counted
    remaining = max(0, limit - int(count))
    g.rate_limit_headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset_in),
    }
    if int(count) > limit:
        raise RateLimited(
            f"rate limit of {limit} requests per {window_s} s exceeded for this key;"
            f" retry in {reset_in} s",
            headers={"Retry-After": str(reset_in), **g.rate_limit_headers},
        )
