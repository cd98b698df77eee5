"""Every long-running command stops cleanly on SIGTERM (a process manager) and on SIGINT
(Ctrl-C): it finishes or hands back what is in flight and exits 0, leaving nothing running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from ci import IN_CI
from loopback_processes import (
    BIN,
    PrivateRedis,
    free_port,
    kill_group,
    spawn,
    start_stripe_sim,
    wait_until,
)

SIGNALS = [signal.SIGTERM, signal.SIGINT]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, require_binary=IN_CI)
    server.start()
    yield server
    server.stop()


def stop_with(process: subprocess.Popen[bytes], sig: int) -> int:
    """Send `sig` to the process alone (not its group, as a process manager would) and wait."""
    try:
        process.send_signal(sig)
        return process.wait(timeout=30)
    finally:
        kill_group(process)  # only if something was left running (the assertions then fail)


def log_says(path: Path, text: str) -> bool:
    return text in path.read_text(errors="replace")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_scheduler_stops_cleanly(sig: int, tmp_path: Path, private_redis: PrivateRedis) -> None:
    log = tmp_path / "scheduler.log"
    env = {**os.environ, "REDIS_URL": private_redis.url, "LOG_LEVEL": "INFO"}
    process = spawn([str(BIN / "midway"), "scheduler"], log, env)
    wait_until(lambda: log_says(log, "Scheduler started"), 30, "the scheduler")
    assert stop_with(process, sig) == 0, log.read_text()
    assert "scheduler stopped" in log.read_text()


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_worker_stops_cleanly(
    sig: int, tmp_path: Path, private_redis: PrivateRedis, committed_database_url: str
) -> None:
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": committed_database_url,
        "REDIS_URL": private_redis.url,
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "2",
        "PROMETHEUS_METRICS": "off",
    }
    process = spawn([str(BIN / "midway"), "worker"], log, env)
    wait_until(lambda: log_says(log, "is ready for action"), 60, "the worker")
    assert stop_with(process, sig) == 0, log.read_text()
    assert "Worker has been shut down" in log.read_text()


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_stripe_sim_stops_cleanly(sig: int, tmp_path: Path) -> None:
    process, url = start_stripe_sim(tmp_path, "sk_test_signals")
    assert stop_with(process, sig) == 0, (tmp_path / "stripe-sim.log").read_text()
    assert "stripe_sim stopped" in (tmp_path / "stripe-sim.log").read_text()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_sim/state", timeout=2)


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """A folder of this test's own, outside pytest's shared temporary root (which another pytest
    run on the machine may re-permission under a running embedded PostgreSQL)."""
    folder = Path(tempfile.mkdtemp(prefix="midway-signals-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_demo_serve_stops_its_child_and_embedded_postgres(
    sig: int, tmp_path: Path, private_dir: Path
) -> None:
    out = private_dir / "demo-out"
    # An embedded database with the schema is all --serve needs (the demo's data is optional).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    subprocess.run(
        [str(BIN / "midway"), "db", "upgrade"],
        env={**env, "MIDWAY_DATA_DIR": str(out)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert not (out / "pgdata" / "postmaster.pid").exists()
    port = free_port()
    log = tmp_path / "serve.log"
    process = spawn(
        [str(BIN / "midway"), "demo", "--serve", "--port", str(port), "--out", str(out)], log, env
    )
    try:
        try:
            wait_until(
                lambda: requests.get(f"http://127.0.0.1:{port}/sign-in", timeout=1).ok,
                90,
                "--serve",
            )
        except TimeoutError as timeout:
            raise AssertionError(f"{timeout}; exit {process.poll()}:\n{log.read_text()}") from None
        family = psutil.Process(process.pid).children(recursive=True)
        assert family, "--serve runs the server in a child process"
        assert (out / "pgdata" / "postmaster.pid").exists()
    except BaseException:
        kill_group(process)
        raise
    assert stop_with(process, sig) == 0, log.read_text()
    gone, alive = psutil.wait_procs(family, timeout=10)
    for leftover in alive:
        leftover.kill()
    assert not alive, f"left running: {alive}"
    assert not (out / "pgdata" / "postmaster.pid").exists(), "the embedded PostgreSQL still runs"
