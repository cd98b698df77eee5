"""The embedded default's fakeredis server (jobs/embedded_redis.py) compiles each Lua script
once and otherwise answers as fakeredis does. Runs on a private server in every environment."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
import redis

from jobs.embedded_broker import WakingRedisBroker
from jobs.embedded_redis import embedded_redis_server

COUNTER = "return redis.call('incrby', KEYS[1], ARGV[1])"


@pytest.fixture
def server() -> Any:
    return embedded_redis_server()


@pytest.fixture
def client(server: Any) -> Any:
    return fakeredis.FakeRedis(server=server)


def test_a_script_is_compiled_once_and_runs_every_time(server: Any, client: Any) -> None:
    counter = client.register_script(COUNTER)
    assert [counter(keys=["n"], args=[2]) for _ in range(5)] == [2, 4, 6, 8, 10]
    # Where fakeredis keeps its Lua runtime is an internal name: this fails if a release
    # moved it (scripts would then run uncached, compiled on every call).
    compiled = server._lua_runtime.compilations
    assert [counter(keys=["n"], args=[1]) for _ in range(5)] == [11, 12, 13, 14, 15]
    assert client.eval(COUNTER, 1, "n", 5) == 20
    assert server._lua_runtime.compilations == compiled


def test_script_errors_and_globals_are_refused_as_fakeredis_refuses_them(client: Any) -> None:
    client.set("text", "not a number")
    failing = client.register_script("return redis.call('incr', KEYS[1])")
    for _ in range(2):  # the cached chunk fails as its first run did
        with pytest.raises(redis.ResponseError):
            failing(keys=["text"])
    for _ in range(2):
        with pytest.raises(redis.ResponseError, match="global"):
            client.eval("leaked = 1 return 1", 0)
    assert client.eval("return 7", 0) == 7  # the runtime is still usable


def test_dramatiqs_broker_scripts_run_on_it(server: Any, client: Any) -> None:
    broker = WakingRedisBroker(client=client)
    broker.declare_queue("work")
    for n in range(3):
        broker.do_enqueue("work", f"m{n}", b"{}")
    assert broker.do_qsize("work") == 3
    assert sorted(broker.do_fetch("work", 10)) == [b"{}"] * 3
    assert server._lua_runtime.compilations <= 3  # Dramatiq's dispatch script and our own few
