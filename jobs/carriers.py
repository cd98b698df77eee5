"""Create a carrier's Stripe Connect Express account."""

from jobs import runtime
from jobs.broker import actor
from jobs.messages import CREATE_CONNECTED_ACCOUNT
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import parties


@actor(CREATE_CONNECTED_ACCOUNT, **ACTOR_OPTIONS)
def create_connected_account(carrier_id: int) -> None:
    with retry_transient_failures():
        parties.ensure_connected_account(runtime.sessions(), runtime.gateway(), carrier_id)
