"""`midway worker`: the Dramatiq worker processes, sized from the settings, with their Prometheus
exporter on WORKER_METRICS_HOST:WORKER_METRICS_PORT.

Concurrency follows the Stripe rate limit: a charge job spends nearly all its time waiting on
Stripe, so filling the limit takes `rate × latency` calls in flight. Threads per process are
derived from STRIPE_RATE_LIMIT_PER_S for a Stripe answer of up to STRIPE_LATENCY_BUDGET_S
(unless WORKER_THREADS is set), while database work stays on a small pool per process
(jobs/runtime.py: DB_POOL_SIZE) and the shared limiter paces the calls themselves.

Consumers poll at least every WORKER_IDLE_POLL_MS (100). Dramatiq backs an idle consumer off up
to its worker timeout (1 s by default); with several processes on one queue, the one whose
threads are busy stops fetching while another, having found the queue empty a few times,
sleeps up to that second with messages waiting: at 800 ms Stripe answers and 90 payments a
second, p99 enqueue→succeeded was 2.1 – 2.3 s with 1 s and 1.35 – 1.96 s with 100 ms
(bench/README.md), for about 1.5 ms more worker CPU a charge and idle polling of ~10 broker
calls a second per queue and process.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from config import Settings, SettingsError, load_settings

# Slow live Stripe answers (an 800 ms confirm) plus our own database work around the call.
STRIPE_LATENCY_BUDGET_S = 1.2
MIN_THREADS = 8
MAX_THREADS = 128


def threads_per_process(settings: Settings) -> int:
    """WORKER_THREADS when set; else enough threads to keep the rate limit busy."""
    if settings.worker_threads:
        return settings.worker_threads
    in_flight = settings.stripe_rate_limit_per_s * STRIPE_LATENCY_BUDGET_S
    per_process = math.ceil(in_flight / settings.worker_processes)
    return max(MIN_THREADS, min(MAX_THREADS, per_process))


@click.command("worker")
def worker() -> None:
    """Run `dramatiq jobs.worker` with WORKER_PROCESSES processes of WORKER_THREADS threads."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    dramatiq = shutil.which("dramatiq") or os.path.join(os.path.dirname(sys.executable), "dramatiq")
    args = [
        dramatiq,
        "jobs.worker",
        "--processes",
        str(settings.worker_processes),
        "--threads",
        str(threads_per_process(settings)),
    ]
    # Read by Dramatiq's Worker at import.
    os.environ["dramatiq_worker_timeout"] = str(settings.worker_idle_poll_ms)
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
