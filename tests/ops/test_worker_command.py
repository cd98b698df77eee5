"""`midway worker` hands Dramatiq its sizing and its idle poll from the settings."""

from __future__ import annotations

import os
from typing import Any

import pytest
from click.testing import CliRunner

from cli.worker import worker


def test_the_worker_command_sizes_dramatiq_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: dict[str, Any] = {}

    def execv(path: str, args: list[str]) -> None:
        # Replacing this process cannot happen inside a test: note what would have run.
        started.update(args=args[1:], poll=os.environ.get("dramatiq_worker_timeout"))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    for name, value in {
        "WORKER_PROCESSES": "3",
        "STRIPE_RATE_LIMIT_PER_S": "100",
        "WORKER_IDLE_POLL_MS": "150",
        "PROMETHEUS_METRICS": "off",
        "dramatiq_worker_timeout": "1000",  # restored after the test; the command sets its own
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WORKER_THREADS", raising=False)
    result = CliRunner().invoke(worker, [])
    assert result.exit_code == 0, result.output
    # 100 requests/s × 1.2 s in flight over 3 processes: 40 threads each.
    assert started["args"] == ["jobs.worker", "--processes", "3", "--threads", "40"]
    assert started["poll"] == "150"
