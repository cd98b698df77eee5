"""The Dramatiq broker, set before any actor module is imported (actors bind at import time).

Real Redis when REDIS_URL is set (production, CI); otherwise fakeredis under the same real
RedisBroker and its Lua scripts (the embedded default). Processes that must share an embedded
broker use a fakeredis TCP server and set REDIS_URL to it.
"""

from __future__ import annotations

from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from config import EmbeddedDefaultMissing, Settings, load_settings
from jobs.request_ids import RequestIdMiddleware

_fake_server: Any = None


def redis_client(settings: Settings) -> redis.Redis:
    global _fake_server
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url)
    try:
        import fakeredis  # the `embedded` extra: only without REDIS_URL
    except ImportError:
        raise EmbeddedDefaultMissing(
            "REDIS_URL is not set and the embedded default is not installed: set REDIS_URL,"
            " or pip install 'midway-payments[embedded]'"
        ) from None
    if _fake_server is None:
        _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_fake_server)


def make_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(client=redis_client(settings))
    broker.add_middleware(RequestIdMiddleware())
    # Lets jobs/retrying.py read how often the message has been retried (its backoff).
    broker.add_middleware(CurrentMessage())
    if settings.prometheus_metrics:
        from dramatiq.middleware.prometheus import Prometheus

        broker.add_middleware(Prometheus())
    return broker


settings = load_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
