"""Create a shipper's Stripe customer."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import parties


@dramatiq.actor(queue_name="customers", **ACTOR_OPTIONS)
def create_customer(shipper_id: int) -> None:
    with retry_transient_failures():
        parties.ensure_customer(runtime.sessions(), runtime.gateway(), shipper_id)
