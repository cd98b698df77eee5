"""Throttling per client address, before authentication.

Requests that do not carry a recently verified API key — anonymous ones (sign-in, webhooks,
health, the pages) and ones with an unknown key — count against their client address: at most
ADDRESS_RATE_LIMIT_PER_S a second each, so that a flood of bad keys cannot buy a database lookup
per request. A key verified in the last KEY_CACHE_TTL_S seconds is limited per key instead
(web.ratelimit). A webhook whose Stripe signature verifies is not counted: Stripe delivers
from a handful of addresses, at the pace of our own traffic (a charge a second per event type
subscribed, up to Stripe's 100/s), and a refused delivery comes back only after Stripe's
backoff, hours later; checking the signature is an HMAC, no database lookup. A forged one
counts like any anonymous request. Behind a reverse proxy, set FORWARDED_PROXIES so the
address is the client's (X-Forwarded-For, trusted for that many hops), not the proxy's. Like
the per-key limit, it lets requests through when Redis cannot be reached.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from web.auth import KeyCache
from web.context import state
from web.errors import RateLimited
from web.keys import hash_secret
from web.ratelimit import count_in_window
from web.webhooks import signed_by_stripe

log = logging.getLogger(__name__)


def _has_verified_key() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    cache: KeyCache | None = state().extras.get("key_cache")
    return cache is not None and cache.get(hash_secret(token.strip()), time.monotonic()) is not None


def check_address(limit: int, window_s: int) -> None:
    if _has_verified_key() or signed_by_stripe():
        return
    counted = count_in_window(f"address:{request.remote_addr}", window_s)
    if counted is not None and counted[0] > limit:
        reset_in = counted[1]
        raise RateLimited(
            f"too many requests without a valid API key from this address; retry in {reset_in} s",
            headers={"Retry-After": str(reset_in)},
        )


def install(app: Flask, *, limit: tuple[int, int], forwarded_proxies: int) -> None:
    """`limit`: (requests, window seconds) per client address."""
    if forwarded_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=forwarded_proxies, x_proto=forwarded_proxies
        )

    @app.before_request
    def throttle_address() -> None:
        check_address(*limit)
