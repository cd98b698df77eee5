"""Create a carrier's Stripe Connect Express account."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import parties


@dramatiq.actor(queue_name="accounts", **ACTOR_OPTIONS)
def create_connected_account(carrier_id: int) -> None:
    with retry_transient_failures():
        parties.ensure_connected_account(runtime.sessions(), runtime.gateway(), carrier_id)
