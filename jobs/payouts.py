"""Pay a carrier: transfer to their connected account, then pay out to their bank."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import payouts


@dramatiq.actor(queue_name="payouts", **ACTOR_OPTIONS)
def advance_batch(batch_id: int) -> None:
    with retry_transient_failures():
        payouts.advance_batch(runtime.sessions(), runtime.gateway(), batch_id)
