"""The Dramatiq broker, set up by an explicit call before any actor module is imported
(an actor binds to the broker when it is declared): `setup_broker(settings)`, which the worker
entry (jobs/worker.py), the demo and the tests call. Importing this module changes nothing.
Processes that only enqueue (web, CLI) build a broker of their own with `make_broker` and send
by name (jobs/messages.py).

Real Redis when REDIS_URL is set (production, CI); otherwise fakeredis under the same real
RedisBroker and its Lua scripts (the embedded default), whose consumers are woken by this
process's enqueues instead of polling (jobs/embedded_broker.py). Processes that must share an
embedded broker use a fakeredis TCP server and set REDIS_URL to it.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from config import EmbeddedDefaultMissing, Settings
from jobs.embedded_broker import WakingRedisBroker
from jobs.embedded_redis import embedded_redis_server
from jobs.messages import ActorRef
from jobs.request_ids import RequestIdMiddleware

_fake_server: Any = None

# Recovery of a killed worker's messages, by the broker itself: each consumer's Redis call
# refreshes its process's heartbeat (idle consumers poll at least once a second); a process
# silent for HEARTBEAT_TIMEOUT_MS is dead, and the next maintenance pass on a queue puts its
# unacknowledged messages back. Maintenance rides on MAINTENANCE_CHANCE of a million broker
# calls: at 25% a queue polled once a second is maintained every few seconds, so messages
# come back within about HEARTBEAT_TIMEOUT_MS + 10 s (Dramatiq's defaults: 60 s and 0.1%,
# i.e. many minutes). A pass without dead workers costs two sorted-set range reads.
HEARTBEAT_TIMEOUT_MS = 20_000
MAINTENANCE_CHANCE = 250_000


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
        _fake_server = embedded_redis_server()
    return fakeredis.FakeRedis(server=_fake_server)


def make_broker(settings: Settings) -> RedisBroker:
    # On the embedded default every client of the fakeredis is in this process: its consumers
    # can be woken by the enqueues instead of polling (jobs/embedded_broker.py).
    broker_class = RedisBroker if settings.redis_url else WakingRedisBroker
    broker = broker_class(
        client=redis_client(settings),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    broker.add_middleware(RequestIdMiddleware())
    # Lets jobs/retrying.py read how often the message has been retried (its backoff).
    broker.add_middleware(CurrentMessage())
    if settings.prometheus_metrics:
        from dramatiq.middleware.prometheus import Prometheus

        broker.add_middleware(Prometheus())
    return broker


def quiet_stripe_sdk_logs(settings: Settings) -> None:
    """The stripe SDK logs two INFO lines per request; at our request rates that costs more CPU
    than the job's own Python. Our own logs carry what matters (ids, outcomes)."""
    if settings.log_level != "DEBUG":
        logging.getLogger("stripe").setLevel(logging.WARNING)


_broker: RedisBroker | None = None


class BrokerNotSetUp(RuntimeError):
    """An actor module was imported before setup_broker(settings) was called."""


def setup_broker(settings: Settings) -> RedisBroker:
    """This process's broker, built from the settings and made Dramatiq's; the first call wins
    (later calls return the same broker)."""
    global _broker
    if _broker is None:
        quiet_stripe_sdk_logs(settings)
        _broker = make_broker(settings)
        dramatiq.set_broker(_broker)
    return _broker


def broker_if_set_up() -> RedisBroker | None:
    return _broker


def current_broker() -> RedisBroker:
    if _broker is None:
        raise BrokerNotSetUp("call jobs.broker.setup_broker(settings) before importing actors")
    return _broker


def actor(ref: ActorRef | None = None, **options: Any) -> Any:
    """dramatiq.actor on the set-up broker (never Dramatiq's implicit default one), named and
    queued by `ref` when given."""
    if ref is not None:
        options = {"actor_name": ref.name, "queue_name": ref.queue, **options}
    return dramatiq.actor(broker=current_broker(), **options)
