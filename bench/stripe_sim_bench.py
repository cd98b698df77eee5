"""Benchmark of stripe_sim: balance_transactions pages/s and charge creations/s.

Runs the simulator in its own process (as `midway stripe-sim` does), drives it over HTTP
keep-alive with `requests`, and prints each figure with its ratio to a baseline measured in
the same run (a trivial GET to the same server) and the targets:
  balance_transactions list pages of 100 >= 500 pages/s; charge creations >= 300/s.
The rate limit (25/s for sk_test_ keys) is lifted for this run. Bounded: about 15 seconds.
Usage: python bench/stripe_sim_bench.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import requests

API_KEY = "sk_test_bench"
TARGETS = {"pages": 500.0, "charges": 300.0}


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        # The simulator's own speed, not Stripe's 25 requests/s sandbox limit: lifted.
        [
            sys.executable,
            "-m",
            "stripe_sim",
            "--port",
            "0",
            "--api-key",
            API_KEY,
            "--rate-limit-test",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # "stripe_sim listening on http://127.0.0.1:PORT"
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1]


def rate(
    fn: Callable[[requests.Session], None],
    seconds: float,
    threads: int,
    session_setup: Callable[[], requests.Session],
) -> float:
    """Calls per second of fn, from `threads` client threads with one connection each."""
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        session = session_setup()
        while time.monotonic() < stop:
            fn(session)
            counts[i] += 1
        session.close()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--threads", type=int, default=2, help="client connections")
    parser.add_argument(
        "--transactions", type=int, default=3000, help="balance transactions to page through"
    )
    args = parser.parse_args()
    proc, url = start_server()
    try:

        def session() -> requests.Session:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {API_KEY}"
            return s

        def baseline(s: requests.Session) -> None:
            s.get(f"{url}/v1/balance", timeout=10).raise_for_status()

        charge_body = {
            "amount": "2500",
            "currency": "usd",
            "confirm": "true",
            "automatic_payment_methods[enabled]": "true",
            "automatic_payment_methods[allow_redirects]": "never",
            "payment_method": "pm_card_bypassPending",
        }

        def charge(s: requests.Session) -> None:
            s.post(f"{url}/v1/payment_intents", data=charge_body, timeout=10).raise_for_status()

        base = rate(baseline, args.seconds, args.threads, session)
        charges = rate(charge, args.seconds, args.threads, session)
        setup = session()
        have = len(
            setup.get(f"{url}/v1/balance_transactions", params={"limit": 100}, timeout=10).json()[
                "data"
            ]
        )
        state = setup.get(f"{url}/_sim/state", timeout=10).json()
        have = state["accounts"]["platform"].get("balance_transaction", have)
        for _ in range(max(args.transactions - have, 0)):
            charge(setup)
        cursors: list[str | None] = [None]
        page = setup.get(f"{url}/v1/balance_transactions", params={"limit": 100}, timeout=10).json()
        while page["has_more"] and len(cursors) < 30:
            cursors.append(page["data"][-1]["id"])
            page = setup.get(
                f"{url}/v1/balance_transactions",
                params={"limit": 100, "starting_after": cursors[-1]},
                timeout=10,
            ).json()
        setup.close()
        position = [0]

        def list_page(s: requests.Session) -> None:
            cursor = cursors[position[0] % len(cursors)]
            position[0] += 1
            params: dict[str, str | int] = {"limit": 100, "created[gte]": 0}
            if cursor:
                params["starting_after"] = cursor
            resp = s.get(f"{url}/v1/balance_transactions", params=params, timeout=10)
            resp.raise_for_status()
            assert len(resp.json()["data"]) == 100

        pages = rate(list_page, args.seconds, args.threads, session)
        print(
            f"stripe_sim benchmark ({args.threads} client connections, server in its own "
            f"process, {args.seconds:.0f} s per figure)"
        )
        print(f"  baseline GET /v1/balance:              {base:8.0f} req/s")
        for name, value, unit in (
            ("pages", pages, "pages/s (limit 100)"),
            ("charges", charges, "charges/s (PI create+confirm)"),
        ):
            target = TARGETS[name]
            verdict = "OK" if value >= target else "BELOW TARGET"
            print(
                f"  {unit:38s}{value:8.0f}   ratio to baseline {value / base:5.2f}   "
                f"target >= {target:.0f}: {verdict}"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
