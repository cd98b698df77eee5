"""All simulator state: per-account objects, the clock, scheduled transitions.

One re-entrant lock guards everything; the server holds it for the whole of a request, so a
request is atomic (effects, events and its idempotency record commit together).
State is scoped per Stripe account, as the `Stripe-Account` header scopes it at Stripe.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from typing import Any

from .clock import Clock
from .collection import Collection, Obj
from .config import SimConfig
from .errors import ResourceMissing

DueHandler = Callable[["Store", "AccountState", str], None]
EventSink = Callable[["Store", "AccountState", Obj], None]

# Handlers for scheduled transitions, registered by the resource modules at import time.
DUE_HANDLERS: dict[str, DueHandler] = {}


def on_due(name: str) -> Callable[[DueHandler], DueHandler]:
    def register(fn: DueHandler) -> DueHandler:
        DUE_HANDLERS[name] = fn
        return fn

    return register


class AccountState:
    def __init__(self, account_id: str, is_platform: bool) -> None:
        self.id = account_id
        self.is_platform = is_platform
        self.objects: dict[str, Obj] = {}
        self.collections: dict[str, Collection] = {}
        # Private per-object facts that are not part of Stripe's JSON (e.g. a webhook secret).
        self.internal: dict[str, dict[str, Any]] = {}
        # Running balance: (currency, status, source_type) -> sum of net.
        self.totals: dict[tuple[str, str, str], int] = {}

    def collection(self, kind: str) -> Collection:
        coll = self.collections.get(kind)
        if coll is None:
            coll = self.collections[kind] = Collection(kind)
        return coll

    def counts(self) -> dict[str, int]:
        return {kind: len(coll) for kind, coll in sorted(self.collections.items()) if len(coll)}


class Store:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = Clock()
        self._seq = itertools.count(1)
        self.accounts: dict[str, AccountState] = {}
        self._heap: list[tuple[int, int, str, str, str]] = []
        self.event_sink: EventSink | None = None
        # Set by the server while it handles a request: events record it as `request`.
        self.current_request: dict[str, Any] | None = None
        self.became_available: set[str] = set()
        self.platform = self._new_platform()

    def _new_platform(self) -> AccountState:
        acct = AccountState(self.config.platform_account_id, is_platform=True)
        self.accounts[acct.id] = acct
        return acct

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self._heap.clear()
            self.clock.reset()
            self.became_available = set()
            self.platform = self._new_platform()

    # -- objects -----------------------------------------------------------------------------

    def seq(self) -> int:
        return next(self._seq)

    def add(self, acct: AccountState, obj: Obj, kind: str | None = None) -> Obj:
        acct.objects[obj["id"]] = obj
        acct.collection(kind or obj["object"]).add(obj, self.seq())
        return obj

    def remove(self, acct: AccountState, obj: Obj) -> None:
        acct.objects.pop(obj["id"], None)
        acct.collection(obj["object"]).remove(obj["id"])

    def get(self, acct: AccountState, kind: str, obj_id: str, param: str = "id") -> Obj:
        obj = acct.objects.get(obj_id)
        if obj is None or obj.get("object") != kind:
            raise ResourceMissing(kind, obj_id, param)
        return obj

    def internal(self, acct: AccountState, obj_id: str) -> dict[str, Any]:
        data = acct.internal.get(obj_id)
        if data is None:
            data = acct.internal[obj_id] = {}
        return data

    def connected(self, account_id: str) -> AccountState | None:
        acct = self.accounts.get(account_id)
        if acct is None or acct.is_platform:
            return None
        return acct

    # -- time ----------------------------------------------------------------------------------

    def now(self) -> int:
        return self.clock.now()

    def schedule(self, due: int, name: str, acct: AccountState, obj_id: str) -> None:
        heapq.heappush(self._heap, (int(due), self.seq(), name, acct.id, obj_id))

    def tick(self) -> None:
        """Run every scheduled transition whose time has come on the simulated clock."""
        heap = self._heap
        if not heap:
            return
        now = self.clock.now()
        while heap and heap[0][0] <= now:
            _, _, name, acct_id, obj_id = heapq.heappop(heap)
            acct = self.accounts.get(acct_id)
            if acct is not None:
                DUE_HANDLERS[name](self, acct, obj_id)
        self.after_tick()

    def after_tick(self) -> None:
        """Hook for batched effects of a tick (balance.available events); set by ledger."""
        for hook in TICK_HOOKS:
            hook(self)

    def next_due(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    # -- events ------------------------------------------------------------------------------

    def emit(self, acct: AccountState, event: Obj) -> None:
        if self.event_sink is not None:
            self.event_sink(self, acct, event)


TICK_HOOKS: list[Callable[[Store], None]] = []
