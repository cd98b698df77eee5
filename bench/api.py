"""Benchmark of the web API under gunicorn on loopback: enqueueing a payment and taking a webhook.

Starts gunicorn (2 gthread workers × 4 threads, as in the Procfile) on a scratch database
(on DATABASE_URL's server when set, else the embedded PostgreSQL in a temporary folder) and
Redis (REDIS_URL, else each worker's fakeredis), then drives it with a pure-Python load
generator (threads with keep-alive http.client connections) on the same 2-core machine:

  - GET /healthz (the baseline: the framework and the server, no work)
  - POST /api/payments/intent (validate, insert load + payment, commit, enqueue)
  - POST /api/webhooks/stripe (verify signature, store event once, enqueue)

each closed-loop (max req/s with 8 connections) and open-loop at a fixed 200 req/s (latency
from the scheduled send time, so queueing delay is not hidden). Prints req/s, p50/p99 and the
ratio to the baseline. Bounded: about 40 s, and it stops gunicorn and drops its database.

    /work/venv/bin/python bench/api.py [--seconds 4] [--rate 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import support_path  # noqa: E402, F401  (tests/support on sys.path)
from loopback_processes import free_port
from scratch_databases import ScratchDatabases, server_url

from models.db import make_engine, make_session_factory, transaction
from models.migrate import upgrade
from payments import parties
from stripe_sim.signing import sign
from web.keys import create_key

WEBHOOK_SECRET = "whsec_bench"
CONNECTIONS = 8
Request = Callable[[], tuple[str, str, bytes, dict[str, str]]]


def _scratch(tmp: Path) -> tuple[str, Callable[[], None]]:
    databases = ScratchDatabases(server_url(tmp))
    url = databases.create("midway_bench_api")

    def drop() -> None:
        databases.drop(url)
        databases.close()

    return url, drop


def seed(url: str) -> tuple[str, int, int]:
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        _, token = create_key(session, role="backend", name="bench")
        shipper = parties.create_shipper(
            session, name="Bench", email="b@bench.test", external_id="bench"
        )
        carrier = parties.create_carrier(
            session,
            name="Bench Carrier",
            email="c@bench.test",
            country="US",
            default_currency="usd",
        )
        ids = shipper.id, carrier.id
    engine.dispose()
    return token, *ids


def worker_loop(
    port: int,
    make: Request,
    deadline: float,
    latencies: list[float],
    errors: list[int],
    schedule: Callable[[], float | None] | None,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while True:
        start = time.perf_counter()
        if schedule is not None:
            due = schedule()
            if due is None:
                break
            if due > start:
                time.sleep(due - start)
            start = due  # open loop: latency counts from when the request was due
        elif start >= deadline:
            break
        method, path, body, headers = make()
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status = 599
        latencies.append(time.perf_counter() - start)
        if status >= 300:
            errors.append(status)
    conn.close()


def run(port: int, make: Request, seconds: float, rate: float | None) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    begin = time.perf_counter() + 0.05
    deadline = begin + seconds
    schedule = None
    if rate is not None:
        lock = threading.Lock()
        sent = [0]
        total = int(rate * seconds)

        def schedule() -> float | None:
            with lock:
                if sent[0] >= total:
                    return None
                sent[0] += 1
                return begin + (sent[0] - 1) / rate

    threads = [
        threading.Thread(
            target=worker_loop, args=(port, make, deadline, latencies, errors, schedule)
        )
        for _ in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(time.perf_counter() - begin, 1e-9)
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "rps": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="midway-bench-"))
    url, drop = _scratch(tmp)
    port = free_port()
    log_file = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in finally
    server = None
    try:
        token, customer_id, carrier_id = seed(url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PROMETHEUS_METRICS": "off",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "-k",
                "gthread",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "30",
                # One load generator on loopback: neither the per-key nor the per-address
                # limit is what is measured.
                "web.wsgi:create_logged_app("
                '{"RATE_LIMIT": [1000000, 1], "ADDRESS_RATE_LIMIT": [1000000, 1]})',
            ],
            env=env,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        wait_until_up(port, server)
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        counter = iter(range(10**9))

        def healthz() -> tuple[str, str, bytes, dict[str, str]]:
            return "GET", "/healthz", b"", {}

        def intent() -> tuple[str, str, bytes, dict[str, str]]:
            body = {
                "customer_id": customer_id,
                "carrier_id": carrier_id,
                "load_id": f"L-{next(counter)}",
                "amount": 12_500,
                "currency": "usd",
                "carrier_amount": 10_000,
                "payment_method": "pm_card_visa",
            }
            headers = {**auth, "Idempotency-Key": f"bench-{body['load_id']}"}
            return "POST", "/api/payments/intent", json.dumps(body).encode(), headers

        def webhook() -> tuple[str, str, bytes, dict[str, str]]:
            event = {
                "id": f"evt_bench_{next(counter)}",
                "object": "event",
                "type": "charge.dispute.created",
                "created": int(time.time()),
                "data": {"object": {"id": "dp_1", "object": "dispute"}},
            }
            payload = json.dumps(event).encode()
            headers = {
                "Stripe-Signature": sign(payload, WEBHOOK_SECRET),
                "Content-Type": "application/json",
            }
            return "POST", "/api/webhooks/stripe", payload, headers

        run(port, intent, 1.0, None)  # warm up pools and caches
        run(port, webhook, 0.5, None)
        results = {}
        for name, make in (
            ("GET /healthz", healthz),
            ("POST /api/payments/intent", intent),
            ("POST /api/webhooks/stripe", webhook),
        ):
            results[name, "max"] = run(port, make, args.seconds, None)
            results[name, "open"] = run(port, make, args.seconds, args.rate)
        report(results, args.rate)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log_file.close()
        drop()


def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def report(results: dict[tuple[str, str], dict[str, float]], rate: float) -> None:
    base = results["GET /healthz", "max"]["rps"]
    print(
        f"gunicorn 2 workers x 4 threads, {CONNECTIONS} keep-alive connections, loopback,"
        f" load generator on the same 2 cores"
    )
    print(
        f"{'endpoint':28} {'mode':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7} {'vs healthz':>10}"
    )
    for (name, mode), r in results.items():
        label = "max" if mode == "max" else f"{rate:.0f}/s"
        ratio = f"{r['rps'] / base:.2f}x" if mode == "max" else ""
        print(
            f"{name:28} {label:>10} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f}"
            f" {r['errors']:7d} {ratio:>10}"
        )


if __name__ == "__main__":
    main()
