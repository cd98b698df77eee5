"""Charge a shipper: create/confirm the PaymentIntent and record Stripe's answer."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import charges


@dramatiq.actor(queue_name="charges", **ACTOR_OPTIONS)
def advance_payment(payment_id: int) -> None:
    with retry_transient_failures():
        charges.advance_payment(runtime.sessions(), runtime.gateway(), payment_id)
