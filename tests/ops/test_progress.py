"""Progress without a terminal is one log line per stage (JSON, like every other log line),
never a bar or a carriage-return counter repeated into a file."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

from loopback_processes import BIN

from reconciliation.progress import LogProgress, NoProgress, progress_for

STAGES = ("fetching from Stripe", "loading ledger", "matching")


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def test_each_stage_is_one_json_line_when_it_ends() -> None:
    stream = io.StringIO()
    progress = LogProgress(stream, clock=Ticks())
    progress.stage(STAGES[0])
    progress.advance(3)
    progress.advance(1)
    progress.stage(STAGES[1], total=10)
    progress.advance(10)
    progress.stage(STAGES[2])
    progress.done()
    progress.done()  # idempotent: the run's end closes nothing twice
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    entries = [json.loads(line) for line in lines]
    assert [e["message"] for e in entries] == [
        "fetching from Stripe: 4 rows in 0.5 s",
        "loading ledger: 10 rows in 0.5 s",
        "matching: 0 rows in 0.5 s",
    ]
    assert {e["level"] for e in entries} == {"INFO"}
    assert {e["logger"] for e in entries} == {"reconciliation.progress"}


def test_bars_only_on_a_terminal_and_nothing_when_quiet() -> None:
    bars = NoProgress()  # stands in for the CLI's bar drawer
    assert progress_for(io.StringIO(), quiet=False, on_terminal=lambda: bars) is not bars
    assert isinstance(
        progress_for(io.StringIO(), quiet=False, on_terminal=lambda: bars), LogProgress
    )
    assert isinstance(progress_for(io.StringIO(), quiet=True, on_terminal=lambda: bars), NoProgress)
    leader, follower = os.openpty()
    with open(follower, "w") as terminal:
        assert progress_for(terminal, quiet=False, on_terminal=lambda: bars) is bars
    os.close(leader)


def test_recon_run_into_a_file_prints_each_stage_once(
    committed_database_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "itemized.csv"
    report.write_text(
        "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n"
    )
    stderr_file = tmp_path / "stderr.log"
    with open(stderr_file, "w") as stderr:
        done = subprocess.run(
            [
                str(BIN / "midway"),
                "recon",
                "run",
                "--date",
                "2026-03-10",
                "--source",
                str(report),
                "--format",
                "json",
            ],
            env={**os.environ, "DATABASE_URL": committed_database_url},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=120,
        )
    text = stderr_file.read_text()
    assert done.returncode == 0, text
    assert "\r" not in text
    messages = [json.loads(line)["message"] for line in text.splitlines()]
    names = [message.split(":")[0] for message in messages]
    assert names[0] == "parsing report" and "matching" in names, messages
    assert len(names) == len(set(names)), f"a stage printed twice: {messages}"
    assert json.loads(done.stdout)["status"] == "clean"
