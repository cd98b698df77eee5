"""Process a stored Stripe webhook event. Its re-fetches from Stripe take the background lane
of the shared rate budget, so a flood of events cannot starve money-moving jobs."""

from jobs import runtime
from jobs.broker import actor
from jobs.messages import PROCESS_EVENT
from jobs.retrying import ACTOR_OPTIONS, retry_transient_failures
from payments import webhook_events


@actor(PROCESS_EVENT, **ACTOR_OPTIONS)
def process_event(event_row_id: int) -> None:
    with retry_transient_failures():
        webhook_events.process_event(runtime.sessions(), runtime.background_gateway(), event_row_id)
