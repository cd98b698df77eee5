"""The README's "Running it for real" block, run as written by bash against real PostgreSQL and
Redis (only the example addresses swapped for this test's database, Redis and free ports): it
ends with a payment succeeding. And the README and the Procfile agree on the web's address."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psutil
from ci import IN_CI
from loopback_processes import BIN, PrivateRedis, free_port, procfile
from scratch_databases import ScratchDatabases
from sqlalchemy.engine import make_url

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
WEB_ADDRESS = "127.0.0.1:8000"


def readme_block(heading: str) -> str:
    section = README[README.index(heading) :]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_procfile_binds_the_address_the_readme_uses() -> None:
    web = procfile(ROOT / "Procfile")["web"]
    assert f"--bind ${{WEB_BIND:-{WEB_ADDRESS}}}" in web
    assert "PORT" not in web  # honcho sets PORT=5000 for the first process
    ports = set(re.findall(r"(?:localhost|127\.0\.0\.1):(\d+)", README)) - {"5432", "6379"}
    # Besides PostgreSQL and Redis: the web, stripe-sim and the workers' metrics exporter.
    assert ports <= {"8000", "12111", "9191"}, ports
    assert "localhost:" not in README


def session_processes(sid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == sid:
                found.append(process)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def test_running_for_real_with_stripe_sim_ends_with_a_payment_succeeding(
    scratch_databases: ScratchDatabases, tmp_path: Path
) -> None:
    block = readme_block("## Running it for real")
    redis_server = PrivateRedis(tmp_path, require_binary=IN_CI)
    redis_server.start()
    database = scratch_databases.create("midway_readme")  # empty, as after `createdb midway`
    web_port, sim_port, metrics_port = free_port(), free_port(), free_port()
    swaps = {
        "postgresql+psycopg://postgres@127.0.0.1:5432/midway": database,
        "redis://127.0.0.1:6379/0": redis_server.url,
        WEB_ADDRESS: f"127.0.0.1:{web_port}",
        "12111": str(sim_port),
    }
    for example, ours in swaps.items():
        assert example in block, example
        block = block.replace(example, ours)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "STRIPE_", "MIDWAY_", "SECRET_KEY"))
    }
    env.update(
        # An activated virtualenv, and the web's address as this machine's operator sets it.
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        WEB_BIND=f"127.0.0.1:{web_port}",
        WORKER_PROCESSES="1",
        WORKER_METRICS_PORT=str(metrics_port),  # 9191 may be taken by another run here
    )
    # The block runs in the clone; here a private folder holding the same Procfile takes its
    # place, so that its logs stay out of the worktree and away from parallel runs.
    shutil.copy(ROOT / "Procfile", tmp_path / "Procfile")
    shell = subprocess.Popen(
        ["bash", "-c", block],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = shell.communicate(timeout=240)
        logs = "".join(
            f"\n--- {name}\n{(tmp_path / name).read_text()[-3000:]}"
            for name in ("stripe-sim.log", "midway.log")
            if (tmp_path / name).exists()
        )
        assert re.search(r"^payment \d+: succeeded$", output, re.M), output + logs
        assert shell.returncode == 0, output
        left = session_processes(shell.pid)
        assert {p.name() for p in left} >= {"honcho"}, "honcho is still serving, as in a shell"
        os.killpg(shell.pid, signal.SIGTERM)  # `kill %1 %2`, and everything they started
        _, alive = psutil.wait_procs(left, timeout=30)
        assert not alive, f"still running after SIGTERM: {alive}"
    finally:
        try:
            os.killpg(shell.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        redis_server.stop()
        scratch_databases.drop(database)
        metrics_folder = Path(tempfile.gettempdir()) / f"midway-worker-metrics-{metrics_port}"
        shutil.rmtree(metrics_folder, ignore_errors=True)
        assert make_url(database).database
