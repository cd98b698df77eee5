"""`midway worker`: the Dramatiq worker processes, sized from the settings."""

from __future__ import annotations

import os
import shutil
import sys

import click

from config import SettingsError, load_settings


@click.command("worker")
def worker() -> None:
    """Run `dramatiq jobs` with WORKER_PROCESSES processes of WORKER_THREADS threads."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    dramatiq = shutil.which("dramatiq") or os.path.join(os.path.dirname(sys.executable), "dramatiq")
    args = [
        dramatiq,
        "jobs",
        "--processes",
        str(settings.worker_processes),
        "--threads",
        str(settings.worker_threads),
    ]
    os.execv(dramatiq, args)
