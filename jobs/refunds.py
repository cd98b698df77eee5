"""Refund a payment, fully or in part."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import refunds


@dramatiq.actor(queue_name="refunds", **ACTOR_OPTIONS)
def advance_refund(refund_id: int) -> None:
    with retry_transient_failures():
        refunds.advance_refund(runtime.sessions(), runtime.gateway(), refund_id)
