"""How a run reports progress: stages, and rows done within a stage. The CLI draws bars on
stderr; jobs and tests pass nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins; `total` rows when known (None: count up)."""

    def advance(self, rows: int) -> None:
        """`rows` more rows of the current stage are done."""

    def done(self) -> None:
        """The run is over (close any bar)."""


class NoProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        return None

    def advance(self, rows: int) -> None:
        return None

    def done(self) -> None:
        return None
