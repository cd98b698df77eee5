"""The simulated clock.

By default it runs with wall time (like Stripe's), shifted by an offset: `set` and `advance`
move it, `freeze` stops it so tests get exact `created` stamps. Everything time-driven in the
simulator (created, available_on, payout arrival, webhook retries) reads this clock.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen: int | None = None

    def now(self) -> int:
        if self._frozen is not None:
            return self._frozen
        return int(time.time() + self._offset)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def set(self, when: int, freeze: bool | None = None) -> None:
        if freeze is None:
            freeze = self.frozen
        if freeze:
            self._frozen = int(when)
        else:
            self._frozen = None
            self._offset = when - time.time()

    def advance(self, seconds: int) -> None:
        if self._frozen is not None:
            self._frozen += int(seconds)
        else:
            self._offset += seconds

    def freeze(self, on: bool) -> None:
        self.set(self.now(), freeze=on)

    def reset(self) -> None:
        self._offset = 0.0
        self._frozen = None

    def state(self) -> dict[str, object]:
        return {"now": self.now(), "frozen": self.frozen}
