"""Processes on loopback, each in its own process group so a kill takes its children too."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import redis
import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout} s")


def spawn(
    args: list[str], log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            args,
            env=dict(env) if env is not None else None,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


class PrivateRedis:
    """A Redis only its owner uses; restart() brings it back empty (no persistence), as the
    Redis here would after a crash. redis-server when installed, else fakeredis's TCP server
    (which runs Dramatiq's Lua scripts too)."""

    def __init__(self, work_dir: Path, *, require_binary: bool = False) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._work_dir = work_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._fake: Any = None
        self.binary = shutil.which("redis-server")
        if self.binary is None and require_binary:
            raise RuntimeError("redis-server is not installed")

    def start(self) -> None:
        if self.binary:
            self._process = spawn(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self._work_dir),
                ],
                self._work_dir / "redis.log",
            )
        else:
            import fakeredis

            self._fake = fakeredis.TcpFakeServer(("127.0.0.1", self.port), server_type="redis")
            threading.Thread(target=self._fake.serve_forever, daemon=True).start()
        wait_until(lambda: bool(redis.Redis.from_url(self.url).ping()), 10, "redis")

    def stop(self) -> None:
        if self._process is not None:
            kill_group(self._process)
            self._process = None
        if self._fake is not None:
            self._fake.shutdown()
            self._fake.server_close()
            self._fake = None

    def restart(self) -> None:
        self.stop()
        self.start()


def start_stripe_sim(
    log_dir: Path, api_key: str, *extra_args: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`midway stripe-sim` in its own process on a free port; returns (process, base URL)."""
    port = free_port()
    process = spawn(
        [str(BIN / "midway"), "stripe-sim", "--port", str(port), "--api-key", api_key, *extra_args],
        log_dir / "stripe-sim.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/_sim/state", timeout=1).ok, 20, "stripe_sim")
    except TimeoutError:
        kill_group(process)
        raise
    return process, url


def procfile(path: Path) -> dict[str, str]:
    """The process types of a Procfile: name -> shell command."""
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


def start_procfile_process(
    command: str, log_path: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """One Procfile entry, run by a shell as honcho or a platform would."""
    return spawn(["bash", "-c", f"exec {command}"], log_path, env)


def start_workers(
    log_path: Path,
    env: Mapping[str, str],
    *,
    modules: tuple[str, ...] = ("jobs.worker",),
    processes: int = 1,
    threads: int = 4,
    extra_paths: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """`dramatiq jobs.worker` (plus any extra actor modules) as one process group."""
    args = [
        str(BIN / "dramatiq"),
        *modules,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    for path in extra_paths:
        args += ["--path", path]
    return spawn(args, log_path, env)
