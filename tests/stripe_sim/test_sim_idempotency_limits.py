"""Idempotency as Stripe keeps it, its rate limits, and the Search API's indexing delay.

Sources: https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/rate-limits,
https://docs.stripe.com/search.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
import stripe
from loopback_processes import kill_group, start_stripe_sim
from sim_helpers import API_KEY, Control, PacedSession

from stripe_sim.ratelimit import RateLimiter
from stripe_sim.server import RunningSimulator, start_simulator

AUTH = {"Authorization": f"Bearer {API_KEY}"}
HTTP = PacedSession()


def _customers(ctl: Control) -> int:
    return int(ctl.get("state")["accounts"]["platform"].get("customer", 0))


def test_overlapping_requests_with_one_key_get_409_in_use(
    sim: RunningSimulator, ctl: Control
) -> None:
    """https://docs.stripe.com/error-low-level#idempotency: a request whose key is still being
    processed by another gets 409 `idempotency_key_in_use`; nothing is saved for it, so the
    same key later replays the first request's result."""
    ctl.faults(slow_ms=600, path="/v1/customers", method="POST", next=1)
    headers = {**AUTH, "Idempotency-Key": "customer:overlap"}
    answers: dict[str, requests.Response] = {}

    def first() -> None:
        answers["first"] = HTTP.post(
            f"{sim.url}/v1/customers", data={"name": "A"}, headers=headers, timeout=10
        )

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.2)
    second = HTTP.post(f"{sim.url}/v1/customers", data={"name": "A"}, headers=headers, timeout=10)
    thread.join()
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")
    assert answers["first"].status_code == 200
    again = HTTP.post(f"{sim.url}/v1/customers", data={"name": "A"}, headers=headers, timeout=10)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == answers["first"].json()["id"]
    assert _customers(ctl) == 1


def test_keys_longer_than_255_characters_are_refused(sim: RunningSimulator, ctl: Control) -> None:
    """https://docs.stripe.com/api/idempotent_requests: "Keys can be up to 255 characters"."""
    too_long = HTTP.post(
        f"{sim.url}/v1/customers",
        data={"name": "A"},
        headers={**AUTH, "Idempotency-Key": "k" * 256},
        timeout=10,
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["type"] == "invalid_request_error"
    assert _customers(ctl) == 0
    longest = HTTP.post(
        f"{sim.url}/v1/customers",
        data={"name": "A"},
        headers={**AUTH, "Idempotency-Key": "k" * 255},
        timeout=10,
    )
    assert longest.status_code == 200


def test_keys_are_forgotten_after_24_hours(sim: RunningSimulator, ctl: Control) -> None:
    """https://docs.stripe.com/api/idempotent_requests: keys are removed after they are at
    least 24 hours old; the same key then performs the request again (simulated clock)."""
    headers = {**AUTH, "Idempotency-Key": "customer:expiring"}
    first = HTTP.post(f"{sim.url}/v1/customers", data={"name": "A"}, headers=headers, timeout=10)
    ctl.advance(23 * 3600)
    replay = HTTP.post(f"{sim.url}/v1/customers", data={"name": "A"}, headers=headers, timeout=10)
    assert replay.json()["id"] == first.json()["id"]
    ctl.advance(3600 + 1)
    fresh = HTTP.post(f"{sim.url}/v1/customers", data={"name": "A"}, headers=headers, timeout=10)
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    assert _customers(ctl) == 2


def test_rate_limit_is_a_sliding_window_per_key() -> None:
    """https://docs.stripe.com/rate-limits: 25 requests/s in a sandbox, 100/s in live mode,
    measured continuously: a burst straddling a second boundary is limited too."""
    limiter = RateLimiter(test_per_s=25, live_per_s=100)
    assert all(limiter.admit("sk_test_a", now=10.5 + i / 100) for i in range(25))
    assert not limiter.admit("sk_test_a", now=10.9)  # 25 within the last second
    assert not limiter.admit("sk_test_a", now=11.2)  # a new calendar second, same window
    assert limiter.admit("sk_test_a", now=11.51)  # the first ones have left the window
    assert limiter.admit("sk_test_b", now=10.9)  # another key has its own window
    assert sum(limiter.admit("sk_live_a", now=20 + i / 1000) for i in range(150)) == 100
    limiter.configure(test_per_s=0)
    assert all(limiter.admit("sk_test_a", now=30.0) for _ in range(1000))  # 0 lifts it


def test_over_the_limit_is_429_rate_limit_with_stripes_header() -> None:
    """https://docs.stripe.com/rate-limits: over the limit, 429 with code `rate_limit` and
    `Stripe-Rate-Limited-Reason`; the control API (and `midway stripe-sim --rate-limit-test`)
    changes or lifts it."""
    with start_simulator(port=0, api_key="sk_test_burst") as other:
        auth = {"Authorization": "Bearer sk_test_burst"}
        with requests.Session() as http:
            answers = [
                http.get(f"{other.url}/v1/balance", headers=auth, timeout=10) for _ in range(60)
            ]
            limited = [a for a in answers if a.status_code == 429]
            assert limited, "60 back-to-back requests must meet the 25/s limit"
            error = limited[0].json()["error"]
            assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
            assert limited[0].headers["Stripe-Rate-Limited-Reason"] == "global-rate"
            lifted = http.post(f"{other.url}/_sim/rate_limits", json={"test_per_s": 0}, timeout=10)
            assert lifted.json() == {"test_per_s": 0, "live_per_s": 100}
            again = [
                http.get(f"{other.url}/v1/balance", headers=auth, timeout=10).status_code
                for _ in range(60)
            ]
            assert set(again) == {200}


def test_live_keys_get_100_per_second() -> None:
    """https://docs.stripe.com/rate-limits: live mode allows 100 requests/s."""
    with start_simulator(port=0, api_key="sk_live_midway") as live:
        assert live.simulator.rate_limiter.limit_for("sk_live_midway") == 100
        assert live.simulator.rate_limiter.limit_for("sk_test_midway") == 25


def _paid(client: stripe.StripeClient, payment_id: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 1_500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"payment_id": payment_id},
        }
    )


def test_search_finds_objects_only_after_the_indexing_delay(
    client: stripe.StripeClient, ctl: Control
) -> None:
    """https://docs.stripe.com/search: "Don't use search for read-after-write flows ... data is
    searchable in less than 1 minute"; the list endpoints are immediately consistent."""
    pi = _paid(client, "41")
    _paid(client, "42")
    query = "metadata['payment_id']:'41'"
    assert client.v1.payment_intents.search(params={"query": query}).data == []
    assert len(client.v1.payment_intents.list().data) == 2  # lists see it at once
    ctl.advance(60)
    found = client.v1.payment_intents.search(params={"query": query})
    assert [p.id for p in found.data] == [pi.id]
    charges = client.v1.charges.search(
        params={"query": f"payment_intent:'{pi.id}' AND status:'succeeded'"}
    )
    assert [c.id for c in charges.data] == [pi.latest_charge]
    both = client.v1.payment_intents.search(
        params={"query": "metadata['payment_id']:'41' OR metadata['payment_id']:'42'", "limit": 1}
    )
    assert len(both.data) == 1 and both.has_more and both.next_page
    rest = client.v1.payment_intents.search(
        params={
            "query": "metadata['payment_id']:'41' OR metadata['payment_id']:'42'",
            "limit": 1,
            "page": both.next_page,
        }
    )
    assert len(rest.data) == 1 and not rest.has_more and rest.data[0].id != both.data[0].id
    assert client.v1.payment_intents.search(params={"query": "amount>=1500"}).data
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.payment_intents.search(params={"query": "shoe_size:'9'"})
    assert bad.value.error is not None and bad.value.error.param == "query"


def test_search_indexing_delay_is_configurable(client: stripe.StripeClient, ctl: Control) -> None:
    """The delay is a setting (`--search-indexing-delay`, POST /_sim/search)."""
    assert ctl.post("search", {"indexing_delay_s": 0}) == {"indexing_delay_s": 0}
    try:
        pi = _paid(client, "7")
        found = client.v1.payment_intents.search(params={"query": "metadata['payment_id']:'7'"})
        assert [p.id for p in found.data] == [pi.id]
    finally:
        ctl.post("search", {"indexing_delay_s": 60})


def test_midway_stripe_sim_sets_the_limits_and_the_delay(tmp_path: Path) -> None:
    """`midway stripe-sim --rate-limit-test/--rate-limit-live/--search-indexing-delay`."""
    process, url = start_stripe_sim(
        tmp_path,
        API_KEY,
        "--rate-limit-test",
        "3",
        "--rate-limit-live",
        "0",
        "--search-indexing-delay",
        "5",
    )
    try:
        assert requests.get(f"{url}/_sim/rate_limits", timeout=10).json() == {
            "test_per_s": 3,
            "live_per_s": 0,
        }
        assert requests.get(f"{url}/_sim/search", timeout=10).json() == {"indexing_delay_s": 5}
        with requests.Session() as http:
            codes = [
                http.get(f"{url}/v1/balance", headers=AUTH, timeout=10).status_code
                for _ in range(10)
            ]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    finally:
        kill_group(process)
