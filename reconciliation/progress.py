"""How a run reports progress: stages, and rows done within a stage.

On a terminal the CLI draws bars on stderr. Without one (cron, CI, a pipe to a file) bars and
carriage returns would only pile up, so each stage becomes one log line, in the JSON log format
of every other process, when it ends. Jobs and tests pass nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from config.logging import JsonFormatter


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


class LogProgress:
    """One JSON log line per stage, written when the stage ends: its name, rows and seconds."""

    LOGGER = "reconciliation.progress"

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._formatter = JsonFormatter()
        self._name: str | None = None
        self._rows = 0
        self._started = 0.0

    def stage(self, name: str, total: int | None = None) -> None:
        self._close()
        self._name, self._rows, self._started = name, 0, self._clock()

    def advance(self, rows: int) -> None:
        self._rows += rows

    def done(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._name is None:
            return
        seconds = self._clock() - self._started
        record = logging.LogRecord(
            self.LOGGER,
            logging.INFO,
            __file__,
            0,
            "%s: %s rows in %.1f s",
            (self._name, f"{self._rows:,}", seconds),
            None,
        )
        self._stream.write(self._formatter.format(record) + "\n")
        self._stream.flush()
        self._name = None


def progress_for(stream: TextIO, *, quiet: bool, on_terminal: Callable[[], Progress]) -> Progress:
    """Bars (`on_terminal`) when `stream` is a terminal, log lines when it is not, nothing when
    quiet."""
    if quiet:
        return NoProgress()
    return on_terminal() if stream.isatty() else LogProgress(stream)
