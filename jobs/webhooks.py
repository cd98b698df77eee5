"""Process a stored Stripe webhook event. Its re-fetches from Stripe take the background lane
of the shared rate budget, so a flood of events cannot starve money-moving jobs."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import webhook_events


@dramatiq.actor(queue_name="webhooks", **ACTOR_OPTIONS)
def process_event(event_row_id: int) -> None:
    with retry_transient_failures():
        webhook_events.process_event(runtime.sessions(), runtime.background_gateway(), event_row_id)
