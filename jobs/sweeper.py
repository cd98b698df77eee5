"""Re-enqueue work that has not moved for STUCK_AFTER_S (lost messages, crashed processes)."""

import logging
from typing import Any

import dramatiq
from sqlalchemy.orm import Session, sessionmaker

from jobs import runtime
from jobs.carriers import create_connected_account
from jobs.charges import advance_payment
from jobs.customers import create_customer
from jobs.payouts import advance_batch
from jobs.refunds import advance_refund
from jobs.webhooks import process_event
from models.db import transaction
from payments.sweeper import find_stuck

log = logging.getLogger(__name__)


def stuck_messages(
    sessions: sessionmaker[Session], older_than_s: int
) -> list[tuple[dramatiq.Actor[Any, Any], int]]:
    """(actor, row id) for every row that has not moved for `older_than_s`."""
    with transaction(sessions) as session:
        stuck = find_stuck(session, older_than_s=older_than_s)
    return [
        (actor, row_id)
        for actor, ids in (
            (create_customer, stuck.customers),
            (create_connected_account, stuck.accounts),
            (advance_payment, stuck.payments),
            (advance_refund, stuck.refunds),
            (advance_batch, stuck.batches),
            (process_event, stuck.events),
        )
        for row_id in ids
    ]


def sweep(older_than_s: int) -> int:
    """Enqueue every stuck row once more; return how many were enqueued."""
    messages = stuck_messages(runtime.sessions(), older_than_s)
    for actor, row_id in messages:
        actor.send(row_id)
    if messages:
        log.info("sweeper re-enqueued %d stuck rows", len(messages))
    return len(messages)
