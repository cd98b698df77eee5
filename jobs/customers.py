"""Create a shipper's Stripe customer."""

from jobs import runtime
from jobs.broker import actor
from jobs.messages import CREATE_CUSTOMER
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import parties


@actor(CREATE_CUSTOMER, **ACTOR_OPTIONS)
def create_customer(shipper_id: int) -> None:
    with retry_transient_failures():
        parties.ensure_customer(runtime.sessions(), runtime.gateway(), shipper_id)
