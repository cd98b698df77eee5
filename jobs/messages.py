"""Who does what, by name: the actors' names and queues, for processes that only enqueue.

The web process, the CLI and the scheduler send messages by these references through a broker
of their own (jobs.broker.make_broker, scheduler/sender.py), without importing the actor
modules (and with them pandas, openpyxl and every service). The actor modules declare
themselves from the same references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq


@dataclass(frozen=True)
class ActorRef:
    name: str
    queue: str

    def message(self, *args: Any) -> dramatiq.Message[Any]:
        return dramatiq.Message(
            queue_name=self.queue, actor_name=self.name, args=args, kwargs={}, options={}
        )


CREATE_CUSTOMER = ActorRef("create_customer", "customers")
CREATE_CONNECTED_ACCOUNT = ActorRef("create_connected_account", "accounts")
ADVANCE_PAYMENT = ActorRef("advance_payment", "charges")
ADVANCE_REFUND = ActorRef("advance_refund", "refunds")
ADVANCE_BATCH = ActorRef("advance_batch", "payouts")
PROCESS_EVENT = ActorRef("process_event", "webhooks")
RECONCILE_DAY = ActorRef("reconcile_day", "reconciliation")
PARK_EXHAUSTED_RETRIES = ActorRef("park_exhausted_retries", "attention")

# The periodic actors (jobs/scheduled.py): what the scheduler process sends.
RUN_NIGHTLY_RECONCILIATION = ActorRef("run_nightly_reconciliation", "scheduled")
RUN_PAYOUT_BATCHING = ActorRef("run_payout_batching", "scheduled")
SCHEDULED_SWEEP = ActorRef("scheduled_sweep", "scheduled")
CATCH_UP = ActorRef("catch_up", "scheduled")
SCHEDULED = (RUN_NIGHTLY_RECONCILIATION, RUN_PAYOUT_BATCHING, SCHEDULED_SWEEP, CATCH_UP)

# Every queue the actors above are served from, in the order they usually run: what waits for
# the queues to empty (the demo's drain) walks all of them.
QUEUES = tuple(
    dict.fromkeys(
        ref.queue
        for ref in (
            *SCHEDULED,
            CREATE_CUSTOMER,
            CREATE_CONNECTED_ACCOUNT,
            ADVANCE_PAYMENT,
            ADVANCE_REFUND,
            ADVANCE_BATCH,
            PROCESS_EVENT,
            RECONCILE_DAY,
            PARK_EXHAUSTED_RETRIES,
        )
    )
)
