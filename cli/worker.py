"""`midway worker`: the Dramatiq worker processes, sized from the settings, with their Prometheus
exporter on WORKER_METRICS_HOST:WORKER_METRICS_PORT."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from config import Settings, SettingsError, load_settings


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
    if settings.prometheus_metrics:
        os.environ.update(exporter_environment(settings))
    os.execv(dramatiq, args)


def exporter_environment(settings: Settings) -> dict[str, str]:
    """Where Dramatiq's Prometheus exporter listens (WORKER_METRICS_HOST/PORT, read by Dramatiq
    from these variables at import), and its multiprocess folder: one per exporter port, emptied
    here so a scrape sums this worker group only, not an earlier or another one."""
    folder = Path(tempfile.gettempdir()) / f"midway-worker-metrics-{settings.worker_metrics_port}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return {
        "dramatiq_prom_host": settings.worker_metrics_host,
        "dramatiq_prom_port": str(settings.worker_metrics_port),
        "dramatiq_prom_db": str(folder),
    }
