"""Polling a payment does not spend the Stripe budget the workers need: reads of the client
secret come from their own bounded budget and a short in-memory cache. Stripe's rate limits
are per account (https://docs.stripe.com/rate-limits)."""

from __future__ import annotations

import fakeredis
import pytest
import requests
from web_helpers import payment_body

from payments import charges
from payments.errors import StripeUnavailable
from web.stripe_reads import ReadBudget


def stripe_reads_counter(sim_url: str, intent: str) -> None:
    """Count the simulator's GETs of one PaymentIntent (a 1 ms delay on the next 1000)."""
    rule = {"path": f"/v1/payment_intents/{intent}", "method": "GET", "slow_ms": 1, "next": 1000}
    requests.post(f"{sim_url}/_sim/faults", json=rule, timeout=10).raise_for_status()


def stripe_reads_seen(sim_url: str) -> int:
    faults = requests.get(f"{sim_url}/_sim/faults", timeout=10).json()
    rules = faults if isinstance(faults, list) else faults.get("rules", [faults])
    return 1000 - rules[0]["next"]


def test_forty_polls_of_an_unfinished_payment_cost_at_most_one_stripe_read(
    backend, parties, sessions, gateway, stripe_sim
):
    body = payment_body(*parties, payment_method=None)
    payment_id = backend.post("/api/payments/intent", body).json["id"]
    assert charges.advance_payment(sessions, gateway, payment_id) == "requires_payment_method"
    intent = backend.get(f"/api/payments/{payment_id}").json["stripe_payment_intent"]
    stripe_reads_counter(stripe_sim.url, intent)

    secrets = {backend.get(f"/api/payments/{payment_id}").json["client_secret"] for _ in range(40)}

    assert stripe_reads_seen(stripe_sim.url) <= 1
    (secret,) = secrets
    assert secret is None or secret.startswith(f"{intent}_secret_")


def test_a_spent_read_budget_answers_at_once_without_touching_the_workers_bucket():
    client = fakeredis.FakeRedis()
    budget = ReadBudget(client, rate_per_s=1)
    budget.before_call()
    with pytest.raises(StripeUnavailable, match="read budget"):
        budget.before_call()
    assert not [key for key in client.keys() if b"midway:stripe:rate" in key]
