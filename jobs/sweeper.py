"""Re-enqueue work that has not moved for STUCK_AFTER_S (lost messages, crashed processes).

Messages go by name (jobs/messages.py), like every other send outside an actor's own module.
"""

import logging

from sqlalchemy.orm import Session, sessionmaker

from jobs import runtime
from jobs.broker import current_broker
from jobs.messages import (
    ADVANCE_BATCH,
    ADVANCE_PAYMENT,
    ADVANCE_REFUND,
    CREATE_CONNECTED_ACCOUNT,
    CREATE_CUSTOMER,
    PROCESS_EVENT,
    ActorRef,
)
from models.db import transaction
from payments.sweeper import find_stuck

log = logging.getLogger(__name__)


def stuck_messages(
    sessions: sessionmaker[Session], older_than_s: int
) -> list[tuple[ActorRef, int]]:
    """(actor reference, row id) for every row that has not moved for `older_than_s`."""
    with transaction(sessions) as session:
        stuck = find_stuck(session, older_than_s=older_than_s)
    return [
        (ref, row_id)
        for ref, ids in (
            (CREATE_CUSTOMER, stuck.customers),
            (CREATE_CONNECTED_ACCOUNT, stuck.accounts),
            (ADVANCE_PAYMENT, stuck.payments),
            (ADVANCE_REFUND, stuck.refunds),
            (ADVANCE_BATCH, stuck.batches),
            (PROCESS_EVENT, stuck.events),
        )
        for row_id in ids
    ]


def sweep(older_than_s: int) -> int:
    """Enqueue every stuck row once more; return how many were enqueued. A broker failure
    propagates: the sweep fails and the next one sends again."""
    messages = stuck_messages(runtime.sessions(), older_than_s)
    broker = current_broker()
    for ref, row_id in messages:
        broker.enqueue(ref.message(row_id))
    if messages:
        log.info("sweeper re-enqueued %d stuck rows", len(messages))
    return len(messages)
