"""Per-process resources the actors share: database sessions and the Stripe gateway.

Built lazily on first use in each worker process (after fork), from the settings. On the
embedded default, whoever starts stripe_sim in-process tells the runtime its address.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from jobs.broker import redis_client, settings
from jobs.stripe_guard import Lane, RedisStripeGuard
from models.db import database_url, make_engine, make_session_factory
from payments.gateway import StripeGateway, make_stripe_client
from payments.installation import key_namespace

_lock = threading.Lock()
_sessions: sessionmaker[Session] | None = None
_gateway: StripeGateway | None = None
_background_gateway: StripeGateway | None = None
# Database connections per worker process. Threads far outnumber them (most threads are waiting
# on Stripe, and no connection is held across a Stripe call); a thread needing the database
# waits its turn on the pool.
DB_POOL_SIZE = 10
_stripe_base_override: str | None = None


class StripeNotConfigured(RuntimeError):
    """Neither STRIPE_API_BASE nor an in-process simulator address is known."""


def use_stripe_base(url: str) -> None:
    """Point this process's gateway at an in-process stripe_sim (embedded default)."""
    global _stripe_base_override, _gateway, _background_gateway
    with _lock:
        _stripe_base_override = url
        _gateway = _background_gateway = None


def configure(
    *, sessions: sessionmaker[Session] | None = None, gateway: StripeGateway | None = None
) -> None:
    """Use these instead of building from settings: the demo and tests run workers in-process
    against a database and a simulator of their own. None restores the default."""
    global _sessions, _gateway, _background_gateway
    with _lock:
        _sessions, _gateway, _background_gateway = sessions, gateway, gateway


def sessions() -> sessionmaker[Session]:
    global _sessions
    with _lock:
        if _sessions is None:
            engine = make_engine(
                database_url(settings), pool_size=DB_POOL_SIZE, max_overflow=0, pool_timeout=60
            )
            _sessions = make_session_factory(engine)
        return _sessions


def stripe_base() -> str:
    """Where Stripe is for this process: STRIPE_API_BASE, or the in-process simulator."""
    base = _stripe_base_override or settings.stripe_api_base
    if base is None:
        raise StripeNotConfigured(
            "STRIPE_API_BASE is not set and no in-process stripe_sim was started"
        )
    return base


def gateway() -> StripeGateway:
    """The gateway of money-moving jobs (charges, refunds, payouts, onboarding)."""
    return _gateway_of("money")


def background_gateway() -> StripeGateway:
    """The gateway of reads that can wait (webhook re-fetches, the event poller): the same
    rate budget and breaker, in the lane capped below the limit (jobs/stripe_guard.py)."""
    return _gateway_of("background")


def _gateway_of(lane: Lane) -> StripeGateway:
    global _gateway, _background_gateway
    built = _gateway if lane == "money" else _background_gateway
    if built is not None:
        return built
    namespace = key_namespace(sessions())  # outside the lock: sessions() takes it too
    with _lock:
        if lane == "money":
            _gateway = _gateway or _build_gateway(lane, namespace)
            return _gateway
        _background_gateway = _background_gateway or _build_gateway(lane, namespace)
        return _background_gateway


def stripe_guard(lane: Lane = "money") -> RedisStripeGuard:
    return RedisStripeGuard(
        redis_client(settings),
        rate_per_s=settings.stripe_rate_limit_per_s,
        breaker_failures=settings.stripe_breaker_failures,
        breaker_cooldown_s=settings.stripe_breaker_cooldown_s,
        lane=lane,
    )


def _build_gateway(lane: Lane, namespace: str) -> StripeGateway:
    guard = stripe_guard(lane)
    return StripeGateway(
        make_stripe_client(settings, stripe_base(), guard),
        guard,
        return_url=settings.stripe_return_url,
        key_namespace=namespace,
    )
