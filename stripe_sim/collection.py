"""An ordered collection of one kind of object, and Stripe's list pagination over it.

Objects are kept sorted by (created, insertion sequence), so a list page is a bisect to the
created-range bounds and the cursor, then a walk newest-first: list pages stay cheap however
many objects there are (the reconciliation benchmark pages through thousands).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable
from typing import Any

from .errors import InvalidRequest, ResourceMissing

Obj = dict[str, Any]


class Collection:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.keys: list[tuple[int, int]] = []
        self.objs: list[Obj] = []
        self.key_of: dict[str, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, obj: Obj, seq: int) -> None:
        key = (int(obj.get("created") or 0), seq)
        self.key_of[obj["id"]] = key
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)
            self.objs.append(obj)
            return
        i = bisect_left(self.keys, key)
        insort(self.keys, key)
        self.objs.insert(i, obj)

    def remove(self, obj_id: str) -> None:
        key = self.key_of.pop(obj_id, None)
        if key is None:
            return
        i = bisect_left(self.keys, key)
        del self.keys[i]
        del self.objs[i]

    def index(self, obj_id: str, param: str) -> int:
        key = self.key_of.get(obj_id)
        if key is None:
            raise ResourceMissing(self.kind, obj_id, param=param)
        return bisect_left(self.keys, key)

    def page(
        self,
        *,
        limit: int = 10,
        created: dict[str, int] | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
        where: Callable[[Obj], bool] | None = None,
    ) -> tuple[list[Obj], bool]:
        """One page, newest first, and whether more objects lie beyond it."""
        if starting_after and ending_before:
            raise InvalidRequest(
                "You may only specify one of these parameters: ending_before, starting_after.",
                param="ending_before",
            )
        lo, hi = 0, len(self.keys)
        if created:
            if "gte" in created:
                lo = max(lo, bisect_left(self.keys, (created["gte"], -1)))
            if "gt" in created:
                lo = max(lo, bisect_left(self.keys, (created["gt"] + 1, -1)))
            if "lte" in created:
                hi = min(hi, bisect_left(self.keys, (created["lte"] + 1, -1)))
            if "lt" in created:
                hi = min(hi, bisect_left(self.keys, (created["lt"], -1)))
        out: list[Obj] = []
        objs = self.objs
        if ending_before:
            # The `limit` objects just newer than the cursor, still returned newest first.
            lo = max(lo, self.index(ending_before, "ending_before") + 1)
            for i in range(lo, hi):
                obj = objs[i]
                if where is None or where(obj):
                    out.append(obj)
                    if len(out) > limit:
                        break
            has_more = len(out) > limit
            out = out[:limit]
            out.reverse()
            return out, has_more
        if starting_after:
            hi = min(hi, self.index(starting_after, "starting_after"))
        for i in range(hi - 1, lo - 1, -1):
            obj = objs[i]
            if where is None or where(obj):
                out.append(obj)
                if len(out) > limit:
                    break
        has_more = len(out) > limit
        return out[:limit], has_more
