"""Stripe-shaped object ids: a prefix, then 24 alphanumerics (`ch_3Pb...`)."""

from __future__ import annotations

import itertools
import random
import string

_ALPHABET = string.ascii_letters + string.digits
_counter = itertools.count(1)
_rand = random.Random()


def _base62(n: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out)) or "0"


def new_id(prefix: str, length: int = 24) -> str:
    # A counter suffix makes ids unique without a lookup; the random head makes them opaque.
    tail = _base62(next(_counter))
    head = "".join(_rand.choices(_ALPHABET, k=max(length - len(tail), 4)))
    return f"{prefix}_{head}{tail}"


def secret(prefix: str, length: int = 32) -> str:
    return f"{prefix}_" + "".join(random.SystemRandom().choices(_ALPHABET, k=length))
