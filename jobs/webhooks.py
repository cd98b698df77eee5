"""Process a stored Stripe webhook event."""

import dramatiq

from jobs import runtime
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import webhook_events


@dramatiq.actor(queue_name="webhooks", **ACTOR_OPTIONS)
def process_event(event_row_id: int) -> None:
    with retry_transient_failures():
        webhook_events.process_event(runtime.sessions(), runtime.gateway(), event_row_id)
