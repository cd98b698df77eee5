"""`midway demo`: a week of the marketplace on the embedded default, then finance's reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

# The demo runs on the embedded default whatever this shell points at: it must never touch a
# real database, Redis or Stripe account.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_API_BASE",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "ALERT_WEBHOOK_URL",
)


def demo_environment(out: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(
        MIDWAY_DATA_DIR=str(out),
        PROMETHEUS_METRICS="off",
        LOG_LEVEL="WARNING",
        # A live-mode key: stripe_sim then allows Stripe's live limit of 100 requests/s
        # (https://docs.stripe.com/rate-limits), and the shared ceiling keeps the workers under
        # it, leaving room for reconciliation's reads. A breaker that trips only on a storm.
        STRIPE_API_KEY="sk_live_midway_demo_simulated",
        STRIPE_RATE_LIMIT_PER_S="80",
        STRIPE_BREAKER_FAILURES="50",
        STRIPE_BREAKER_COOLDOWN_S="1",
        # Simulated nights pass in a second: whatever has not moved by then is stuck.
        STUCK_AFTER_S="1",
    )
    return env


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run one stage of the demo in a child process; SIGTERM or Ctrl-C here stops the child as
    Ctrl-C would (its servers closed, its embedded PostgreSQL stopped), waits for it, and
    answers 0 when it stopped cleanly.

    The child gets its own session so a terminal's Ctrl-C reaches it once, through this
    process, and not twice while it is shutting down.
    """
    child = subprocess.Popen(command, env=env, start_new_session=True)
    stopping = False

    def forward(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            child.send_signal(signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopping:
        click.echo("midway demo: stopped", err=True)
        return 0 if code == 0 else 130
    return code


@click.command("demo")
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(2, 31),
    help="Days of trading to simulate (ending four days ago).",
)
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed.")
@click.option(
    "--out",
    default="demo-out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for everything the demo writes (database, reports).",
)
@click.option(
    "--loads",
    default=200,
    show_default=True,
    type=click.IntRange(10, 5000),
    help="Loads paid per day.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Serve the finance pages over the demo's data (running the demo first if "
    "--out holds none).",
)
@click.option("--port", default=8000, show_default=True, type=int, help="Port for --serve.")
def demo(days: int, seed: int, out: Path, loads: int, serve: bool, port: int) -> None:
    """Run a week of a freight marketplace end to end and hand finance its reports."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = demo_environment(out)
    if not serve or not (out / "pgdata").exists():
        command = [
            sys.executable,
            "-m",
            "demo",
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--loads",
            str(loads),
        ]
        code = run_child(command, env)
        if code != 0 or not serve:
            sys.exit(code)
    sys.exit(run_child([sys.executable, "-m", "demo.serve", "--port", str(port)], env))
