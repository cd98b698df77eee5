"""Webhook delivery: signed POSTs to registered endpoints, retried with backoff.

A background thread delivers events in order, one at a time, when they are due on the
simulated clock; a non-2xx answer or a network error schedules a retry after the next
interval of `config.webhook_retry_schedule` (simulated seconds). The same thread also runs the
store's scheduled transitions, so time-driven changes happen without any request.
Lock order: the store lock may be held when taking the queue lock, never the reverse.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from . import signing, wire
from .collection import Obj
from .faults import Faults
from .store import AccountState, Store

REORDER_HOLD_S = 1.0  # a held-back event goes out after the next one, or after this long
LOG_LIMIT = 10_000


@dataclass(order=True)
class Delivery:
    due: int
    seq: int
    event_id: str = field(compare=False)
    event_type: str = field(compare=False)
    account: str | None = field(compare=False)
    endpoint_id: str = field(compare=False)
    url: str = field(compare=False)
    secret: str = field(compare=False)
    payload: bytes = field(compare=False)
    attempt: int = field(default=0, compare=False)
    held_until: float | None = field(default=None, compare=False)


def endpoint_targets(
    store: Store, acct: AccountState, event_type: str
) -> list[tuple[AccountState, Obj]]:
    """(owner, endpoint) pairs receiving an event, following Stripe's `connect` flag.

    An account's own endpoints get its events; the platform's endpoints created with
    `connect=true` get connected accounts' events instead of the platform's own. The default
    endpoint configured at start (`both`) gets both.
    """
    candidates: list[tuple[AccountState, Obj]] = []
    platform = store.platform
    for ep in platform.collection("webhook_endpoint").objs:
        info = store.internal(platform, ep["id"])
        wanted = info.get("both") or bool(info.get("connect")) != acct.is_platform
        if wanted:
            candidates.append((platform, ep))
    if not acct.is_platform:
        candidates.extend((acct, ep) for ep in acct.collection("webhook_endpoint").objs)
    out = []
    for owner, ep in candidates:
        if ep["status"] != "enabled":
            continue
        enabled = ep["enabled_events"]
        if "*" in enabled or any(fnmatchcase(event_type, e) for e in enabled):
            out.append((owner, ep))
    return out


class Dispatcher:
    def __init__(self, store: Store, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self._qlock = threading.Lock()
        self._queue: list[Delivery] = []
        self._seq = itertools.count(1)
        self._inflight = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.log: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._run, name="stripe-sim-webhooks", daemon=True)

    # -- producer side (called with the store lock held) ------------------------------------

    def on_event(self, store: Store, acct: AccountState, event: Obj) -> None:
        targets = endpoint_targets(store, acct, event["type"])
        if not targets:
            return
        event["pending_webhooks"] = len(targets)
        payload = wire.pretty(event)
        now = store.now()
        with self._qlock:
            for owner, ep in targets:
                secret = store.internal(owner, ep["id"])["secret"]
                fault = self.faults.for_webhook(event["type"], event.get("account"))
                if fault.drop:
                    self._record(event, ep, 0, "dropped", None)
                    continue
                copies = 2 if fault.duplicate else 1
                for _ in range(copies):
                    d = Delivery(
                        due=now + int(fault.delay_s),
                        seq=next(self._seq),
                        event_id=event["id"],
                        event_type=event["type"],
                        account=event.get("account"),
                        endpoint_id=ep["id"],
                        url=ep["url"],
                        secret=secret,
                        payload=payload,
                    )
                    if fault.reorder:
                        d.held_until = time.monotonic() + REORDER_HOLD_S
                    heapq.heappush(self._queue, d)
        self._wake.set()

    def clear(self) -> None:
        with self._qlock:
            self._queue.clear()
            self.log.clear()

    # -- worker side ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def wake(self) -> None:
        self._wake.set()

    def _take_due(self) -> Delivery | None:
        now = self.store.now()
        mono = time.monotonic()
        with self._qlock:
            waiting: list[Delivery] = []
            chosen = None
            while self._queue and self._queue[0].due <= now:
                d = heapq.heappop(self._queue)
                if d.held_until is not None and d.held_until > mono:
                    waiting.append(d)
                    continue
                chosen = d
                break
            for d in waiting:
                heapq.heappush(self._queue, d)
            if chosen is not None:
                self._inflight += 1
            return chosen

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.store.lock:
                self.store.tick()
            d = self._take_due()
            if d is None:
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            self._deliver(d)

    def _post(self, d: Delivery) -> tuple[int | None, str | None]:
        req = urllib.request.Request(
            d.url,
            data=d.payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": signing.sign(d.payload, d.secret),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.store.config.webhook_timeout_s) as resp:
                return resp.status, None
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, None
        except (OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def _deliver(self, d: Delivery) -> None:
        status, error = self._post(d)
        ok = status is not None and 200 <= status < 300
        d.attempt += 1
        with self.store.lock:
            now = self.store.now()
            if ok:
                self._mark_delivered(d)
        schedule = self.store.config.webhook_retry_schedule
        with self._qlock:
            self._inflight -= 1
            self._record_delivery(d, status, error, now)
            # Anything held back for reordering before this one was queued goes out next.
            for other in self._queue:
                if (other.endpoint_id == d.endpoint_id and other.held_until is not None
                        and other.seq < d.seq):
                    other.held_until = None
            if not ok and d.attempt <= len(schedule):
                d.due = now + schedule[d.attempt - 1]
                d.seq = next(self._seq)
                heapq.heappush(self._queue, d)

    def _mark_delivered(self, d: Delivery) -> None:
        acct = self.store.accounts.get(d.account or self.store.platform.id)
        event = acct.objects.get(d.event_id) if acct else None
        if event is not None and event["pending_webhooks"] > 0:
            event["pending_webhooks"] -= 1

    def _record(self, event: Obj, ep: Obj, attempt: int, outcome: str, status: int | None) -> None:
        self.log.append({
            "event": event["id"], "type": event["type"], "account": event.get("account"),
            "endpoint": ep["id"], "url": ep["url"], "attempt": attempt, "outcome": outcome,
            "status": status, "error": None, "at": self.store.now(),
        })
        del self.log[:-LOG_LIMIT]

    def _record_delivery(self, d: Delivery, status: int | None, error: str | None,
                         now: int) -> None:
        ok = status is not None and 200 <= status < 300
        self.log.append({
            "event": d.event_id, "type": d.event_type, "account": d.account,
            "endpoint": d.endpoint_id, "url": d.url, "attempt": d.attempt,
            "outcome": "delivered" if ok else "failed", "status": status, "error": error,
            "at": now,
        })
        del self.log[:-LOG_LIMIT]

    # -- control side ------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        now = self.store.now()
        with self._qlock:
            due = sum(1 for d in self._queue if d.due <= now)
            return {"due": due, "scheduled": len(self._queue) - due, "inflight": self._inflight}

    def drain(self, timeout: float) -> dict[str, int]:
        """Wait until nothing is due or in flight (deliveries scheduled later may remain)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while True:
            state = self.pending()
            if (state["due"] == 0 and state["inflight"] == 0) or time.monotonic() >= deadline:
                return state
            self._wake.set()
            time.sleep(0.01)
