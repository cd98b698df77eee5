"""Stripe's webhook signature: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256>`.

The MAC is over "<t>.<raw body>" with the endpoint secret (whsec_...) as the key, so the
SDK's `stripe.Webhook.construct_event(payload, header, secret)` accepts it. `t` is wall-clock
time (not the simulated clock): receivers check it against their own clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(payload: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(payload, secret, t).split("v1=", 1)[1]
    fresh = abs(time.time() - t) <= tolerance
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))
