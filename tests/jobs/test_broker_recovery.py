"""A SIGKILLed worker's in-flight messages come back through the broker itself.

Dramatiq's RedisBroker keeps each process's unacknowledged messages in a per-process set and
its heartbeat in Redis; a live worker's maintenance pass puts a dead process's messages back
on their queue (jobs/broker.py tunes how soon). The sweeper is not run here: the broker alone
must bring every payment to its end, within 60 s of the kill.
"""

from __future__ import annotations

import time
from collections import Counter

import stripe
from loopback_processes import wait_until
from sqlalchemy import func, select

from models import Payment

API_KEY = "sk_test_midway"
PAYMENTS = 6
RECOVERY_BOUND_S = 60


def test_messages_of_a_sigkilled_worker_are_redelivered_by_the_broker(cluster) -> None:
    ids = cluster.card_payments(PAYMENTS, "kill")
    # Stripe answers slowly, so the worker (4 threads, 8 prefetched) holds every message.
    cluster.sim("faults", {"slow_ms": 20_000, "path": "/v1/payment_intents"})
    cluster.sim("requests/clear")
    cluster.start_worker(0)
    for payment_id in ids:
        cluster.send("charges", "advance_payment", payment_id)

    def calls_in_flight() -> int:
        received = cluster.sim_get("requests")["requests"]
        return sum(1 for _, _, path in received if path == "/v1/payment_intents")

    wait_until(lambda: calls_in_flight() >= 4, 30, "charges in flight")
    cluster.kill_worker(0)
    killed_at = time.monotonic()
    cluster.sim("faults", {})
    cluster.start_worker(1)

    def unfinished() -> int:
        with cluster.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Payment)
                    .where(Payment.id.in_(ids), Payment.status != "succeeded")
                )
                or 0
            )

    wait_until(lambda: unfinished() == 0, RECOVERY_BOUND_S, "redelivery by the broker")
    print(f"all {PAYMENTS} payments succeeded {time.monotonic() - killed_at:.1f} s after the kill")
    # One PaymentIntent each at Stripe: the redelivered jobs reused their idempotency keys.
    client = stripe.StripeClient(API_KEY, base_addresses={"api": cluster.sim_url})
    intents = client.v1.payment_intents.list(params={"limit": 100}).data
    per_payment = Counter(intent.metadata["payment_id"] for intent in intents)
    assert per_payment == Counter({str(payment_id): 1 for payment_id in ids})
