"""Open-loop HTTP load from several processes: POSTs sent at a fixed rate over keep-alive
connections, so that the load generator's own interpreter lock does not set the offered rate.

Request `i` is due at `begin + i / rate`; processes take every `processes`-th request, and
within a process each connection takes the next due one. A request is sent when due or, if
every connection is busy, as soon as one frees up (the lag is reported, not hidden). A 429
from the API is waited out (Retry-After) and sent again.

    offered = offer_load("http://127.0.0.1:8000", posts, rate=90.0)
    print(offered.accepted_per_s, offered.late_p99_s)
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# (path, JSON body, headers) of one request
Post = tuple[str, dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class Offered:
    sent: int
    failures: list[str]
    accepted_per_s: float  # requests answered 2xx per second, from the first one due
    late_p99_s: float  # how much later than due the 99th percentile request went out


def offer_load(
    base_url: str, posts: list[Post], rate: float, *, processes: int = 4, connections: int = 4
) -> Offered:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    ready = context.Barrier(processes + 1)
    shares = [list(enumerate(posts))[k::processes] for k in range(processes)]
    start_at = context.Value("d", 0.0)
    children = [
        context.Process(
            target=_send_share, args=(base_url, share, rate, connections, ready, start_at, results)
        )
        for share in shares
    ]
    for child in children:
        child.start()
    ready.wait(timeout=60)  # every child imported and connected
    start_at.value = time.time() + 0.2
    ready.wait(timeout=60)
    outcomes = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join(timeout=30)
    accepted = sum(ok for ok, _, _, _ in outcomes)
    failures = [failure for _, failed, _, _ in outcomes for failure in failed]
    last_done = max(done for _, _, done, _ in outcomes)
    lateness = sorted(late for _, _, _, lates in outcomes for late in lates)
    span = last_done - start_at.value
    return Offered(
        sent=len(posts),
        failures=failures,
        accepted_per_s=accepted / span if span > 0 else float("nan"),
        late_p99_s=lateness[int(0.99 * (len(lateness) - 1))] if lateness else 0.0,
    )


def _send_share(
    base_url: str,
    share: list[tuple[int, Post]],
    rate: float,
    connections: int,
    ready: Any,
    start_at: Any,
    results: Any,
) -> None:
    address = urlsplit(base_url)
    lock = threading.Lock()
    queue = iter(share)
    accepted = [0]
    failures: list[str] = []
    lateness: list[float] = []
    done_at = [0.0]
    clients = [
        http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        for _ in range(connections)
    ]
    for client in clients:
        client.connect()
        # http.client writes the headers and the body in two sends: without this, Nagle's
        # algorithm holds the body until the server's delayed ACK (tens of ms a request).
        assert client.sock is not None
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ready.wait(timeout=60)
    ready.wait(timeout=60)  # the parent has set the start time
    begin = start_at.value

    def send(client: http.client.HTTPConnection) -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, (path, body, headers) = item
            due = begin + index / rate
            time.sleep(max(0.0, due - time.time()))
            with lock:
                lateness.append(max(0.0, time.time() - due))
            payload = json.dumps(body).encode()
            for _ in range(20):
                client.request(
                    "POST", path, payload, {"Content-Type": "application/json", **headers}
                )
                response = client.getresponse()
                answer = response.read()
                if response.status != 429:
                    break
                time.sleep(float(response.getheader("Retry-After") or "0.2"))
            with lock:
                if 200 <= response.status < 300:
                    accepted[0] += 1
                else:
                    failures.append(f"{response.status} {answer[:200]!r}")
                done_at[0] = max(done_at[0], time.time())

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    results.put((accepted[0], failures[:5], done_at[0], lateness))
