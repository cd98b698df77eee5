"""`midway demo` end to end (a short week), and `--serve` over its data."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import requests
from loopback_processes import BIN, free_port, kill_group, wait_until


def test_the_demo_finds_every_planted_fault_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [str(BIN / "midway"), "demo", "--days", "2", "--loads", "40", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    verdicts = [line for line in lines if line.strip().startswith("[")]
    assert len(verdicts) == 10, result.stdout
    assert all("[ found  ]" in v or "[absorbed]" in v for v in verdicts), result.stdout
    # A dispute is booked from its events as it happens: absorbed, not found.
    for kind in ("missing_in_ledger", "fee_mismatch", "duplicate_in_ledger"):
        assert any(kind in v and "[ found  ]" in v for v in verdicts), kind
    assert "nothing found that was not planted." in result.stdout
    # A usd-settling platform: a jpy load converted by Stripe, and a returned ACH debit.
    converted = next(line for line in lines if "a jpy load converted" in line)
    assert "settles in usd" in converted and "¥" in converted and "settled at" in converted
    assert any("ACH debit returned" in v and "[absorbed]" in v for v in verdicts)
    reports = sorted((out / "reports").glob("*/platform.*"))
    assert {p.suffix for p in reports} == {".html", ".csv", ".xlsx", ".json"}
    assert "fee_mismatch" in "".join(p.read_text() for p in reports if p.suffix == ".csv")

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "midway"), "demo", "--serve", "--port", str(port), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{port}/sign-in", timeout=1).ok,
            60,
            "demo --serve",
        )
        page = requests.get(f"http://127.0.0.1:{port}/sign-in", timeout=5)
        assert "Sign in" in page.text or "sign in" in page.text.lower()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(server)
