"""The embedded default's broker (jobs/embedded_broker.py): Dramatiq's RedisBroker on fakeredis
whose consumers are woken by enqueues instead of polling, and which knows when the work it was
given has settled. Runs on a private fakeredis server in every environment: it is the embedded
default's own component (real Redis takes Dramatiq's plain broker)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import dramatiq
import fakeredis
import pytest

from jobs.embedded_broker import WakingRedisBroker

# A consumer that is not woken looks again only after this long (a worker also takes up to
# this long to stop: its threads wait for work as long).
IDLE_POLL_MS = 4_000


class CountingBroker(WakingRedisBroker):
    """Counts the fetches its consumers make (each one Lua run on fakeredis)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.fetches: Counter[str] = Counter()

    def _dispatch(self, command: str) -> Any:
        run = super()._dispatch(command)  # Dramatiq's do_<command>: one run of its Lua script
        if command != "fetch":
            return run

        def fetch(queue_name: str, *args: Any) -> Any:
            self.fetches[queue_name] += 1
            return run(queue_name, *args)

        return fetch


@pytest.fixture
def server() -> Any:
    return fakeredis.FakeServer()


def make_broker(server: Any) -> CountingBroker:
    return CountingBroker(client=fakeredis.FakeRedis(server=server))


@pytest.fixture
def broker(server: Any) -> CountingBroker:
    return make_broker(server)


class Done:
    """What the test actor saw; it fails the first attempt of the keys listed in `flaky`."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.flaky: set[str] = set()

    def __call__(self, key: str) -> None:
        with self.lock:
            self.seen[key] += 1
            first = self.seen[key] == 1
        if first and key in self.flaky:
            raise RuntimeError("a transient failure")


@pytest.fixture
def done(broker: CountingBroker) -> Done:
    return Done()


@pytest.fixture
def job(broker: CountingBroker, done: Done) -> Any:
    # A failed attempt is retried (Dramatiq's Retries) after a short delay, through the DQ.
    return dramatiq.actor(
        done, broker=broker, actor_name="record", queue_name="work", min_backoff=10, max_backoff=50
    )


@pytest.fixture
def worker(broker: CountingBroker, job: Any) -> Iterator[dramatiq.Worker]:
    running = dramatiq.Worker(broker, worker_timeout=IDLE_POLL_MS, worker_threads=2)
    running.start()
    yield running
    running.stop()


def wait_for(condition: Any, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_an_idle_consumer_sleeps_until_an_enqueue_wakes_it(
    broker: CountingBroker, job: Any, done: Done, worker: dramatiq.Worker
) -> None:
    time.sleep(1.0)  # idle: Dramatiq's own consumer would fetch about eight times by now
    idle_fetches = broker.fetches["work"]
    assert idle_fetches <= 2

    job.send("a")
    # Well before the idle poll: the enqueue woke the consumer.
    assert wait_for(lambda: done.seen["a"] == 1, timeout_s=IDLE_POLL_MS / 2000)
    assert broker.fetches["work"] <= idle_fetches + 3


def test_settled_once_every_message_is_acknowledged_retries_included(
    broker: CountingBroker, job: Any, done: Done, worker: dramatiq.Worker
) -> None:
    keys = [f"k{i}" for i in range(30)]
    done.flaky = set(keys[::3])  # their first attempt fails and is retried after a delay
    for key in keys:
        job.send(key)

    assert broker.wait_until_settled(timeout_s=20)
    assert all(done.seen[key] == (2 if key in done.flaky else 1) for key in keys)
    for queue in ("work", "work.DQ"):
        assert broker.do_qsize(queue) == 0


def test_unsettled_while_a_message_waits_and_across_brokers_of_one_server(
    server: Any, broker: CountingBroker, job: Any, done: Done
) -> None:
    sender = make_broker(server)  # as the web process sends through a broker of its own
    sender.enqueue(job.message("from-the-web"))
    assert not broker.wait_until_settled(timeout_s=0.2)  # no worker yet

    running = dramatiq.Worker(broker, worker_timeout=IDLE_POLL_MS, worker_threads=2)
    running.start()
    try:
        assert broker.wait_until_settled(timeout_s=10)
        assert done.seen["from-the-web"] == 1
    finally:
        running.stop()


def test_brokers_on_other_servers_do_not_share_counts(broker: CountingBroker, job: Any) -> None:
    elsewhere = make_broker(fakeredis.FakeServer())
    elsewhere.declare_queue("work")
    elsewhere.enqueue(job.message("elsewhere"))
    assert broker.wait_until_settled(timeout_s=0.1)
    assert not elsewhere.wait_until_settled(timeout_s=0.1)


def test_an_acknowledgement_fetches_again_only_when_a_fetch_left_messages_behind(
    broker: CountingBroker, job: Any, done: Done, worker: dramatiq.Worker
) -> None:
    time.sleep(0.5)
    before = broker.fetches["work"]
    for index in range(20):  # one at a time: each finds the queue empty after it
        job.send(f"single-{index}")
        assert wait_for(lambda index=index: done.seen[f"single-{index}"] == 1, timeout_s=2)
    # One fetch per enqueue; an acknowledgement adds none when nothing was left behind.
    assert broker.fetches["work"] - before <= 20 + 2

    burst = [f"burst-{i}" for i in range(200)]  # more than the prefetch takes at once
    for key in burst:
        job.send(key)
    # Left behind by full fetches, they are fetched as acknowledgements free room, well
    # before an idle poll would find them.
    assert wait_for(
        lambda: all(done.seen[key] == 1 for key in burst), timeout_s=IDLE_POLL_MS / 2000
    )
