"""Refund a payment, fully or in part."""

from jobs import runtime
from jobs.broker import actor
from jobs.messages import ADVANCE_REFUND
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import refunds


@actor(ADVANCE_REFUND, **ACTOR_OPTIONS)
def advance_refund(refund_id: int) -> None:
    with retry_transient_failures():
        refunds.advance_refund(runtime.sessions(), runtime.gateway(), refund_id)
