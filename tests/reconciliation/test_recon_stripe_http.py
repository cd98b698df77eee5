"""Reconciliation's reads of Stripe wait out a 429 and report every answer to the shared guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from reconciliation.errors import StripeFetchFailed
from reconciliation.stripe_http import RATE_LIMITED_ATTEMPTS, StripeHTTP

API_KEY = "sk_test_midway"


class CountingGuard:
    """A guard that lets every call through and counts what the client told it."""

    def __init__(self) -> None:
        self.calls = self.sends = self.successes = self.failures = 0

    def before_send(self) -> Callable[[], None]:
        self.calls += 1

        def sent() -> None:
            self.sends += 1

        return sent

    def record_success(self) -> None:
        self.successes += 1

    def record_failure(self) -> None:
        self.failures += 1


def rate_limit_next(sim_url: str, count: int) -> None:
    rule = {"rate_limit_429": 1.0, "path": "/v1/balance", "method": "GET", "next": count}
    requests.post(f"{sim_url}/_sim/faults", json=rule, timeout=10).raise_for_status()


def test_a_429_is_waited_out_and_each_answer_reaches_the_guard(stripe_sim: Any) -> None:
    guard = CountingGuard()
    http = StripeHTTP(stripe_sim.url, API_KEY, guard=guard)
    rate_limit_next(stripe_sim.url, 2)
    assert http.get_json("/v1/balance")["object"] == "balance"
    assert (guard.calls, guard.failures, guard.successes) == (3, 2, 1)
    assert guard.sends == guard.calls  # every place taken in the log of sends is stamped


def test_a_429_that_lasts_fails_the_fetch_with_stripe_s_answer(stripe_sim: Any) -> None:
    guard = CountingGuard()
    http = StripeHTTP(stripe_sim.url, API_KEY, guard=guard)
    rate_limit_next(stripe_sim.url, RATE_LIMITED_ATTEMPTS)
    with pytest.raises(StripeFetchFailed, match="429"):
        http.get_json("/v1/balance")
    assert (guard.calls, guard.failures) == (RATE_LIMITED_ATTEMPTS, RATE_LIMITED_ATTEMPTS)
