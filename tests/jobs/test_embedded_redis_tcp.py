"""The embedded default's fakeredis served on loopback (jobs/embedded_redis_tcp.py), as the
demo's web process reaches it: redis-py and Dramatiq's plain RedisBroker work over it, errors
come back as Redis errors, and an enqueue sent over it is counted and wakes the consumers of
this process as their own broker's enqueue does. Runs on a private server on a free port."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from jobs.embedded_broker import WakingRedisBroker
from jobs.embedded_redis import embedded_redis_server
from jobs.embedded_redis_tcp import LoopbackRedisServer, ProtocolError, read_command

# Longer than any wait below: a consumer that had to poll for a message would be too late.
IDLE_POLL_MS = 8_000


@pytest.fixture
def broker() -> WakingRedisBroker:
    import fakeredis

    return WakingRedisBroker(client=fakeredis.FakeRedis(server=embedded_redis_server()))


@pytest.fixture
def loopback(broker: WakingRedisBroker) -> Iterator[LoopbackRedisServer]:
    server = LoopbackRedisServer(broker).start()
    yield server
    server.stop()


@pytest.fixture
def remote(loopback: LoopbackRedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(loopback.url)
    yield client
    client.close()


def test_commands_scripts_and_errors_over_loopback(
    broker: WakingRedisBroker, remote: redis.Redis
) -> None:
    assert remote.ping()
    remote.set("greeting", "hello")
    assert broker.client.get("greeting") == b"hello"  # the same fakeredis as this process's
    counter = remote.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert [counter(keys=["n"], args=[3]) for _ in range(3)] == [3, 6, 9]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        remote.lpush("greeting", "x")
    assert remote.get("greeting") == b"hello"  # the connection still serves after an error
    assert remote.hgetall("missing") == {}


def test_a_malformed_command_closes_only_that_connection(
    loopback: LoopbackRedisServer, remote: redis.Redis
) -> None:
    with pytest.raises(ProtocolError):
        read_command(io.BufferedReader(io.BytesIO(b"GET x\r\n")))  # type: ignore[arg-type]
    import socket

    host, port = loopback.socket.getsockname()[:2]
    with socket.create_connection((host, port), timeout=5) as raw:
        raw.sendall(b"not redis\r\n")
        assert raw.recv(100) == b""  # closed
    assert remote.ping()


def test_an_enqueue_over_loopback_wakes_the_consumer_and_is_counted(
    broker: WakingRedisBroker, loopback: LoopbackRedisServer
) -> None:
    seen: list[str] = []
    finished = threading.Event()

    def record(key: str) -> None:
        time.sleep(0.3)  # still running when the sender below asks whether work is settled
        seen.append(key)
        finished.set()

    job = dramatiq.actor(record, broker=broker, actor_name="record", queue_name="work")
    worker = dramatiq.Worker(broker, worker_timeout=IDLE_POLL_MS, worker_threads=1)
    worker.start()
    sender = RedisBroker(url=loopback.url)  # a production broker in another process
    try:
        time.sleep(0.5)  # the consumer is idle, waiting for a wake-up
        sent_at = time.monotonic()
        sender.enqueue(job.message("from-the-web"))
        assert not broker.wait_until_settled(timeout_s=0.1)  # counted while it runs
        assert broker.wait_until_settled(timeout_s=5)
        assert seen == ["from-the-web"]
        # Woken by the enqueue, not found by the idle poll eight seconds later.
        assert time.monotonic() - sent_at < 3
    finally:
        worker.stop()
        sender.client.connection_pool.disconnect()  # Dramatiq's broker leaves them open


def test_a_refused_enqueue_is_not_counted(broker: WakingRedisBroker, remote: redis.Redis) -> None:
    # Dramatiq's broker script run over loopback with an argument it refuses: an error reply,
    # and nothing is left waiting to settle.
    broker.declare_queue("work")
    broker.do_qsize("work")  # the script is loaded on the server from here on
    script: Any = broker.scripts["dispatch"]
    with pytest.raises(redis.ResponseError) as refused:
        remote.evalsha(script.sha, 1, broker.namespace, "enqueue", "not-a-timestamp", "work")
    assert not isinstance(refused.value, redis.exceptions.NoScriptError)
    assert broker.wait_until_settled(timeout_s=0.1)
    assert remote.ping()  # Lua's multi-line error came back as one line: still in step
