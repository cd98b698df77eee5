"""Pay a carrier: transfer to their connected account, then pay out to their bank."""

from jobs import runtime
from jobs.broker import actor
from jobs.messages import ADVANCE_BATCH
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from models.db import transaction
from models.payments import PayoutBatchStatus
from payments import payout_batching, payouts
from reconciliation import alerts


@actor(ADVANCE_BATCH, **ACTOR_OPTIONS)
def advance_batch(batch_id: int) -> None:
    with retry_transient_failures():
        status = payouts.advance_batch(runtime.sessions(), runtime.gateway(), batch_id)
    if status == PayoutBatchStatus.FAILED:
        alert_payout_failures()


def alert_payout_failures() -> int:
    """Alert finance once about each failed batch (also run by the minute's sweep, for
    failures that came by webhook); return how many were alerted."""
    with transaction(runtime.sessions()) as session:
        failed = payout_batching.claim_failure_alerts(session)
    for item in failed:
        alerts.payout_batching_failed(item.as_dict(), runtime.settings().alert_webhook_url)
    return len(failed)
