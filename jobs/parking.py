"""Park a row whose job ran out of retries (Dramatiq's on_retry_exhausted target)."""

from __future__ import annotations

import logging
from typing import Any

from jobs import runtime
from jobs.broker import actor
from jobs.messages import ADVANCE_BATCH, ADVANCE_PAYMENT, ADVANCE_REFUND, PARK_EXHAUSTED_RETRIES
from payments import attention

log = logging.getLogger(__name__)

# The actors that drive a parkable row, by Dramatiq actor name.
ROW_KINDS = {
    ADVANCE_PAYMENT.name: "payment",
    ADVANCE_REFUND.name: "refund",
    ADVANCE_BATCH.name: "payout_batch",
}


def _last_error(message: dict[str, Any]) -> str:
    trace = (message.get("options") or {}).get("traceback") or ""
    lines = [line for line in str(trace).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


@actor(PARK_EXHAUSTED_RETRIES, max_retries=5)
def park_exhausted_retries(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    actor_name = message.get("actor_name", "")
    args = message.get("args") or []
    reason = (
        f"{actor_name} gave up after {retry_info.get('retries')} retries: {_last_error(message)}"
    )
    kind = ROW_KINDS.get(actor_name)
    if kind is None or not args:
        log.error("retries exhausted: %s %s", reason, args, extra={"event": "jobs.exhausted"})
        return
    attention.park_row(runtime.sessions(), kind, int(args[0]), reason)
