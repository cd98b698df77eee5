"""The embedded default's broker: Dramatiq's RedisBroker on fakeredis inside this one process,
with consumers that wait to be woken instead of polling.

On fakeredis every broker call is Lua compiled and run in this process, under its interpreter
lock (about half a millisecond a call, against microseconds on Redis), and Dramatiq's consumers
poll: after each message an idle consumer fetches again within milliseconds, backing off to the
worker timeout, so most fetches find nothing and take the CPU from the jobs. Here every enqueue
and acknowledgement passes through this process, so a consumer sleeps until one concerns its
queue and fetches then; otherwise it fetches once per worker timeout (for a message written by
another client of the same fakeredis). The messages, their Lua scripts and the acknowledgements
are Dramatiq's own.

The broker also counts the messages enqueued here and not yet acknowledged, so that a caller
can wait for the work to settle (`wait_until_settled`) without polling the queues' sizes.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

import dramatiq
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.redis import RedisBroker

# How long an idle consumer waits for a wake-up before it hands control back to its thread,
# which re-enqueues the delayed messages (retries) that have come due: at most this late.
TICK_S = 0.1


class _SharedQueues:
    """What every broker on one fakeredis server shares: one wake-up per queue, and the count
    of messages enqueued and not yet acknowledged or rejected (the web and the CLI send through
    brokers of their own)."""

    def __init__(self) -> None:
        self._wakeups: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._unsettled = 0

    def wakeup(self, queue_name: str) -> threading.Event:
        with self._lock:
            return self._wakeups.setdefault(queue_name, threading.Event())

    def count(self, change: int) -> None:
        with self._settled:
            self._unsettled += change
            if self._unsettled <= 0:
                self._settled.notify_all()

    def forget(self) -> None:
        with self._settled:
            self._unsettled = 0
            self._settled.notify_all()

    def wait_until_settled(self, timeout_s: float) -> bool:
        with self._settled:
            return self._settled.wait_for(lambda: self._unsettled <= 0, timeout_s)


_by_server: weakref.WeakKeyDictionary[Any, _SharedQueues] = weakref.WeakKeyDictionary()
_by_server_lock = threading.Lock()


def _shared_queues(client: Any) -> _SharedQueues:
    server = client.connection_pool.connection_kwargs.get("server")  # fakeredis's FakeServer
    if server is None:
        return _SharedQueues()
    with _by_server_lock:
        return _by_server.setdefault(server, _SharedQueues())


class WakingRedisBroker(RedisBroker):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._queues = _shared_queues(self.client)

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        # Dramatiq's consumer, told never to sleep between fetches: the wrapper waits instead.
        fetching = super().consume(queue_name, prefetch, timeout=0)
        return WokenConsumer(fetching, self._queues, queue_name, timeout / 1000)

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> Any:
        # Counted before it is written: a quick consumer may acknowledge it before we return.
        self.expect_message()
        try:
            sent = super().enqueue(message, delay=delay)
        except BaseException:
            self.message_settled()
            raise
        self.wake(sent.queue_name)
        return sent

    # The three steps of an enqueue, also taken for a message another process writes through
    # this process's fakeredis (jobs/embedded_redis_tcp.py).
    def expect_message(self) -> None:
        self._queues.count(+1)

    def message_settled(self) -> None:
        self._queues.count(-1)

    def wake(self, queue_name: str) -> None:
        self._queues.wakeup(queue_name).set()

    def flush_all(self) -> None:
        super().flush_all()
        self._queues.forget()

    def wait_until_settled(self, timeout_s: float) -> bool:
        """Wait until every message enqueued in this process has been acknowledged or rejected
        (a hint: the queues' sizes stay the authority, e.g. for messages of other clients)."""
        return self._queues.wait_until_settled(timeout_s)


class WokenConsumer(Consumer):
    """Dramatiq's Redis consumer, fetching only when woken (an enqueue on its queue, or a freed
    prefetch place after an acknowledgement when the last fetch was limited by the prefetch) or
    once per idle poll. A fetched batch is handed
    out from Dramatiq's own cache; its end is not taken for a sign of more (messages mostly
    come one at a time, and each one wakes the consumer)."""

    def __init__(
        self, fetching: Consumer, queues: _SharedQueues, queue_name: str, idle_poll_s: float
    ) -> None:
        self._fetching = fetching
        self._queues = queues
        self._wakeup = queues.wakeup(queue_name)
        self._idle_poll_s = idle_poll_s
        self._next_poll = 0.0
        # Whether the last fetch may have left messages in Redis (it took all it had room for):
        # only then does an acknowledgement, freeing room, call for another fetch.
        self._may_have_left_some = True

    def __next__(self) -> MessageProxy | None:
        fetching: Any = self._fetching  # Dramatiq's _RedisConsumer
        if fetching.message_cache:
            return next(fetching)  # the last fetch's batch, without a Redis call
        if not self._wakeup.is_set():
            wait_s = self._next_poll - time.monotonic()
            if wait_s > 0 and not self._wakeup.wait(min(wait_s, TICK_S)):
                return None
        self._wakeup.clear()  # before the fetch: a later enqueue wakes us again
        room = fetching.prefetch - fetching.outstanding_message_count
        message = next(fetching)
        taken = len(fetching.message_cache) + (message is not None)
        self._may_have_left_some = room <= 0 or taken >= room
        if message is None:
            self._next_poll = time.monotonic() + self._idle_poll_s
        return message

    def ack(self, message: MessageProxy) -> None:
        try:
            self._fetching.ack(message)
        finally:
            self._settle()

    def nack(self, message: MessageProxy) -> None:
        try:
            self._fetching.nack(message)
        finally:
            self._settle()

    def _settle(self) -> None:
        self._queues.count(-1)
        if self._may_have_left_some:
            self._wakeup.set()  # a prefetch place is free for what the last fetch left

    def requeue(self, messages: Any) -> None:
        self._fetching.requeue(messages)

    def close(self) -> None:
        self._fetching.close()
