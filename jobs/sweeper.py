"""Re-enqueue work that has not moved for STUCK_AFTER_S (lost messages, crashed processes)."""

import logging

import dramatiq

from jobs import runtime
from jobs.broker import settings
from jobs.carriers import create_connected_account
from jobs.charges import advance_payment
from jobs.customers import create_customer
from jobs.payouts import advance_batch
from jobs.refunds import advance_refund
from jobs.retrying import retry_transient_failures
from jobs.webhooks import process_event
from models.db import transaction
from payments.sweeper import find_stuck

log = logging.getLogger(__name__)


def sweep(older_than_s: int) -> int:
    """Enqueue every stuck row once more; return how many were enqueued."""
    with transaction(runtime.sessions()) as session:
        stuck = find_stuck(session, older_than_s=older_than_s)
    for actor, ids in (
        (create_customer, stuck.customers),
        (create_connected_account, stuck.accounts),
        (advance_payment, stuck.payments),
        (advance_refund, stuck.refunds),
        (advance_batch, stuck.batches),
        (process_event, stuck.events),
    ):
        for row_id in ids:
            actor.send(row_id)
    if stuck.total():
        log.info("sweeper re-enqueued %d stuck rows", stuck.total())
    return stuck.total()


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def sweep_stuck_work() -> None:
    with retry_transient_failures():
        sweep(settings.stuck_after_s)
