"""Charge a shipper: create/confirm the PaymentIntent and record Stripe's answer."""

from jobs import runtime
from jobs.broker import actor
from jobs.messages import ADVANCE_PAYMENT
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import charges


@actor(ADVANCE_PAYMENT, **ACTOR_OPTIONS)
def advance_payment(payment_id: int) -> None:
    with retry_transient_failures():
        charges.advance_payment(runtime.sessions(), runtime.gateway(), payment_id)
