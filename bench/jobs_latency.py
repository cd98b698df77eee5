"""Charges at Stripe's real speed: the default `midway worker` against a slow, rate-limited Stripe.

stripe_sim in its own process answers every request after `slow_ms` (300 ms, a typical live
PaymentIntent confirm, then 800 ms) and, like live Stripe, answers 429 beyond 100 requests in
any sliding second; our shared Stripe limit is 100 requests/s. Payments are enqueued over HTTP
(gunicorn, the Procfile's web line; `--web-workers` gives it more processes, production has 2)
by an open-loop load generator in several processes (tests/support/http_load.py), and charged
by `midway worker` with its default sizing, on real PostgreSQL and a private Redis. Two runs
per latency (`--runs`):

  - backlog: `--payments` enqueued while the workers are stopped, then drained; sustained
    charges/s (between the 10th and 90th percentile of completions) against the ideal
    min(limit, in-flight ÷ latency);
  - offered load: 90% of the limit, open loop, for ~10 s; p99 enqueue→succeeded (aim ≤ 2 s),
    and the rate the API actually accepted (the offered rate reached).

Per run: p50/p99 enqueue→succeeded (the payment row's created_at → its last update, both on
PostgreSQL's clock), the most Stripe calls in any sliding second as stripe_sim received them
(its request log: kernel receive times), Stripe calls (one per payment when nothing was
retried), limiter waits and deferrals, Redis commands per charge, worker RSS, PostgreSQL
connections per worker process, worker CPU per charge.

    python bench/jobs_latency.py [--payments 1000] [--latencies 300,800] [--limit 100]
        [--runs backlog,offered] [--offered-seconds 10] [--web-workers 2]
"""

# ruff: noqa: E402  (the path fix below comes before the project's imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/jobs_latency.py`, bench/ is first on the path and bench/jobs.py would
# shadow the jobs package.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).parent.resolve():
    del sys.path[0]
sys.path.insert(0, str(Path(__file__).parent / "latency"))  # its stack and load (no jobs.py there)
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "support"))  # loopback processes

import argparse
import bisect
import json
import tempfile
import threading
import time
from typing import Any

import psutil
import redis
import requests
from latency_stack import Sampler, Stack, accept_rows, enqueue, enqueue_rows, start_stack
from loopback_processes import PrivateRedis, kill_group, wait_until
from scratch_databases import ScratchDatabases, server_url
from sqlalchemy import Engine, text

from config import load_settings
from jobs.stripe_guard import limiter_counts
from models.migrate import upgrade


def completions(
    engine: Engine, tag: str, since: float, sent_at: dict[int, float] | None = None
) -> tuple[list[float], list[float], int]:
    """(completion times as unix s, enqueue→succeeded seconds, unfinished) for the run's rows;
    latency counts from `since` for rows enqueued before it (a backlog waiting for workers),
    or from each row's message send when `sent_at` has it."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.id, p.status, extract(epoch FROM p.updated_at), "
                "extract(epoch FROM p.updated_at - greatest(p.created_at, to_timestamp(:since))) "
                "FROM payments p JOIN loads l ON l.id = p.load_id "
                "WHERE l.external_id LIKE :tag"
            ),
            {"tag": f"{tag}-%", "since": since},
        ).all()
    done = [
        (float(at), float(at) - sent_at[row_id] if sent_at else float(took))
        for row_id, status, at, took in rows
        if status == "succeeded"
    ]
    unfinished = sum(1 for _, status, _, _ in rows if status == "pending")
    return sorted(at for at, _ in done), sorted(took for _, took in done), unfinished


def most_in_a_sliding_second(times: list[float]) -> int:
    times = sorted(times)
    return max(
        (bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times)),
        default=0,
    )


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def redis_calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(entry["calls"]) for name, entry in stats.items()}


def settle_earlier_runs(stack: Stack) -> None:
    """Wait for the webhooks of the runs before (a backlog leaves a thousand events to deliver
    and process), so that a run's workers do only its own work."""
    requests.post(f"{stack.sim_url}/_sim/webhooks/drain", json={"timeout": 60}, timeout=70)
    wait_until(lambda: stack.redis.hlen("dramatiq:webhooks.msgs") == 0, 120, "webhook jobs")


def measure(
    stack: Stack, sampler: Sampler, tag: str, count: int, rate: float | None, via: str = "http"
) -> dict[str, Any]:
    """Offered load at `rate`/s with the workers running, enqueued over HTTP or (via "broker")
    accepted beforehand and enqueued at the rate; or (rate None) a backlog of `count` enqueued
    over HTTP while the workers are stopped, then drained by freshly started ones."""
    rows = accept_rows(stack, tag, count) if rate is not None and via == "broker" else None
    sent_at: dict[int, float] | None = None
    settle_earlier_runs(stack)
    requests.post(f"{stack.sim_url}/_sim/requests/clear", json={}, timeout=10)
    counts_before = limiter_counts(stack.redis)
    calls_before = redis_calls(stack.redis)
    started = time.time()
    if rate is None:
        stack.stop_workers()
        offered = enqueue(stack, tag, count, rate)
        stack.start_workers()
        started = time.time()
        wait_until(lambda: len(sampler.processes()) > 0, 30, "worker processes")
    cpu_before = sampler.cpu_s()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            sampler.sample()

    watcher = threading.Thread(target=sample)
    watcher.start()
    try:
        if rows is not None and rate is not None:
            offered, sent_at = enqueue_rows(stack, rows, rate)
        elif rate is not None:
            offered = enqueue(stack, tag, count, rate)
        deadline = time.monotonic() + 300
        while True:
            finished, latencies, unfinished = completions(stack.engine, tag, started, sent_at)
            if unfinished == 0 and len(finished) + unfinished >= count:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{tag}: {unfinished} payments still pending after 300 s")
            time.sleep(0.2)
    finally:
        stop.set()
        watcher.join()
    cpu = sampler.cpu_s() - cpu_before
    calls_after = redis_calls(stack.redis)
    calls = {name: n - calls_before.get(name, 0) for name, n in calls_after.items()}
    top = sorted(calls.items(), key=lambda item: -item[1])[:4]
    counts = limiter_counts(stack.redis)
    log = requests.get(f"{stack.sim_url}/_sim/requests", timeout=10).json()["requests"]
    stripe_times = [at for at, _, _ in log]
    (stack.work / f"requests-{tag}.json").write_text(json.dumps(log))
    low, high = percentile(finished, 0.1), percentile(finished, 0.9)
    sustained = (0.8 * len(finished)) / (high - low) if high > low else float("nan")
    return {
        "succeeded": len(finished),
        "enqueued_per_s": offered.accepted_per_s,
        "late_p99": offered.late_p99_s,
        "end_to_end": len(finished) / (finished[-1] - started),
        "sustained": sustained,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max_sliding": most_in_a_sliding_second(stripe_times),
        "stripe_calls": len(stripe_times),
        "waits": counts.waits - counts_before.waits,
        "deferrals": counts.deferrals - counts_before.deferrals,
        "redis_per_charge": sum(calls.values()) / len(finished),
        "redis_top": ", ".join(f"{name} {n / len(finished):.1f}" for name, n in top),
        "cpu_ms_per_charge": 1000 * cpu / len(finished),
    }


def report(
    label: str, figures: dict[str, Any], ideal: float | None, offered_rate: float | None = None
) -> None:
    print(f"  {label}")
    if ideal is not None:
        print(
            f"    sustained {figures['sustained']:6.1f} charges/s  ideal {ideal:6.1f}  "
            f"ratio {figures['sustained'] / ideal:5.2f}  (end to end {figures['end_to_end']:.1f}/s)"
        )
    since = "the workers' start" if ideal is not None else "enqueue"
    print(
        f"    {since}→succeeded p50 {figures['p50']:5.2f} s  p99 {figures['p99']:5.2f} s  "
        f"({figures['succeeded']:.0f} succeeded)"
    )
    print(
        f"    enqueued at {figures['enqueued_per_s']:.1f} payments/s"
        f"{f' (offered {offered_rate:.0f}/s)' if offered_rate else ''}  "
        f"(p99 send {1000 * figures['late_p99']:.0f} ms after due)"
    )
    print(
        f"    most Stripe calls in any sliding second {figures['max_sliding']:.0f}  "
        f"(of {figures['stripe_calls']:.0f} calls)  limiter waits {figures['waits']:.0f}, "
        f"deferrals {figures['deferrals']:.0f}"
    )
    print(
        f"    Redis commands/charge {figures['redis_per_charge']:5.1f} ({figures['redis_top']})  "
        f"worker CPU/charge {figures['cpu_ms_per_charge']:5.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--latencies", default="300,800")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--offered-share", type=float, default=0.9)
    parser.add_argument("--offered-seconds", type=float, default=10.0)
    parser.add_argument("--runs", default="backlog,offered", help="either or both")
    parser.add_argument(
        "--offered-via",
        choices=("http", "broker"),
        default="http",
        help="offered load through the API, or rows accepted first and enqueued at the rate",
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="midway-bench-latency-"))
    databases = ScratchDatabases(server_url(work))
    url = databases.create("midway_bench_latency")
    upgrade(url)
    private_redis = PrivateRedis(work)
    private_redis.start()
    processes: list = []
    stack: Stack | None = None
    try:
        stack, processes = start_stack(work, url, private_redis.url, args.limit, args.web_workers)
        from cli.worker import threads_per_process

        settings = load_settings({"STRIPE_RATE_LIMIT_PER_S": str(args.limit)})
        in_flight = settings.worker_processes * threads_per_process(settings)
        pg_port = stack.engine.url.port or 5432
        sampler = Sampler(stack, pg_port)
        print(
            f"midway worker: {settings.worker_processes} processes × "
            f"{threads_per_process(settings)} threads = {in_flight} in flight; "
            f"Stripe limit {args.limit}/s"
        )
        measure(stack, sampler, "warm", 40, None)
        for latency_ms in (int(v) for v in args.latencies.split(",")):
            requests.post(f"{stack.sim_url}/_sim/faults", json={"slow_ms": latency_ms}, timeout=10)
            ideal = min(args.limit, in_flight / (latency_ms / 1000))
            print(f"stripe_sim answering after {latency_ms} ms:")
            if "backlog" in args.runs:
                backlog = measure(stack, sampler, f"backlog{latency_ms}", args.payments, None)
                report(f"backlog of {args.payments} payments", backlog, ideal)
            if "offered" in args.runs:
                rate = args.limit * args.offered_share
                count = int(rate * args.offered_seconds)
                offered = measure(
                    stack, sampler, f"offered{latency_ms}", count, rate, args.offered_via
                )
                label = (
                    f"offered load {rate:.0f}/s for {args.offered_seconds:.0f} s, "
                    f"enqueued {'over HTTP' if args.offered_via == 'http' else 'by the broker'}"
                )
                report(label, offered, None, rate)
        print(
            f"worker processes: peak RSS {sampler.rss_mb:.0f} MiB, "
            f"peak PostgreSQL connections per process {sampler.pg_connections}"
        )
        web_rss = [
            child.memory_info().rss / 2**20
            for child in psutil.Process(processes[1].pid).children(recursive=True)
        ]
        print("gunicorn processes RSS (MiB): " + ", ".join(f"{r:.0f}" for r in web_rss))
    finally:
        if stack is not None:
            stack.stop_workers()
        for process in reversed(processes):
            kill_group(process)
        private_redis.stop()
        databases.drop(url)
        databases.close()


if __name__ == "__main__":
    main()
