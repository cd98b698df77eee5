"""Carry the request id of the HTTP request that enqueued a message into the job's logs."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import Broker, MessageProxy
from dramatiq.message import Message

from config.logging import current_request_id


class RequestIdMiddleware(dramatiq.Middleware):
    """Stamps the current request id on messages sent, and restores it while one is processed."""

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int) -> None:
        request_id = current_request_id.get()
        if request_id and "request_id" not in message.options:
            message.options["request_id"] = request_id

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        current_request_id.set(message.options.get("request_id"))

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        current_request_id.set(None)

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        current_request_id.set(None)
