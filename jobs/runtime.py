"""Per-process resources the actors share: database sessions and the Stripe gateway.

Built lazily on first use in each worker process (after fork), from the settings. On the
embedded default, whoever starts stripe_sim in-process tells the runtime its address.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from config import Settings, load_settings
from jobs.broker import redis_client
from jobs.stripe_guard import Lane, RedisStripeGuard
from models.db import database_url, make_engine, make_session_factory
from payments.gateway import StripeGateway, make_stripe_client
from payments.installation import key_namespace

_lock = threading.Lock()
_settings: Settings | None = None
_sessions: sessionmaker[Session] | None = None
_gateways: dict[Lane, StripeGateway] = {}  # per lane of the shared Stripe budget
# Database connections per worker process. Threads far outnumber them (most threads are waiting
# on Stripe, and no connection is held across a Stripe call); a thread needing the database
# waits its turn on the pool.
DB_POOL_SIZE = 10
_stripe_base_override: str | None = None


class StripeNotConfigured(RuntimeError):
    """Neither STRIPE_API_BASE nor an in-process simulator address is known."""


def use_settings(settings: Settings) -> None:
    """The settings this process's sessions and gateways are built from (jobs.setup.start)."""
    global _settings
    with _lock:
        _settings = settings


def settings() -> Settings:
    """This process's settings: those set up, else the environment's (read once)."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def use_stripe_base(url: str) -> None:
    """Point this process's gateway at an in-process stripe_sim (embedded default)."""
    global _stripe_base_override
    with _lock:
        _stripe_base_override = url
        _gateways.clear()


def configure(
    *, sessions: sessionmaker[Session] | None = None, gateway: StripeGateway | None = None
) -> None:
    """Use these instead of building from settings: the demo and tests run workers in-process
    against a database and a simulator of their own. None restores the default."""
    global _sessions
    with _lock:
        _sessions = sessions
        _gateways.clear()
        if gateway is not None:
            _gateways["money"] = _gateways["background"] = gateway


def sessions() -> sessionmaker[Session]:
    global _sessions
    current = settings()
    with _lock:
        if _sessions is None:
            engine = make_engine(
                database_url(current), pool_size=DB_POOL_SIZE, max_overflow=0, pool_timeout=60
            )
            _sessions = make_session_factory(engine)
        return _sessions


def stripe_base(config: Settings | None = None) -> str:
    """Where Stripe is for this process: STRIPE_API_BASE, or the in-process simulator."""
    base = _stripe_base_override or (config or settings()).stripe_api_base
    if base is None:
        raise StripeNotConfigured(
            "STRIPE_API_BASE is not set and no in-process stripe_sim was started"
        )
    return base


def gateway(lane: Lane = "money") -> StripeGateway:
    """This process's gateway for money-moving jobs (charges, refunds, payouts, onboarding),
    or for the background lane."""
    built = _gateways.get(lane)
    if built is not None:
        return built
    current, factory = settings(), sessions()  # outside the lock: both take it
    gateway_for_lane = build_gateway(current, factory, lane)
    with _lock:
        return _gateways.setdefault(lane, gateway_for_lane)


def background_gateway() -> StripeGateway:
    """The gateway of reads that can wait (webhook re-fetches, the event poller): the same
    rate budget and breaker, in the lane capped below the limit (jobs/stripe_guard.py)."""
    return gateway("background")


def stripe_guard(config: Settings | None = None, lane: Lane = "money") -> RedisStripeGuard:
    current = config or settings()
    return RedisStripeGuard(
        redis_client(current),
        rate_per_s=current.stripe_rate_limit_per_s,
        breaker_failures=current.stripe_breaker_failures,
        breaker_cooldown_s=current.stripe_breaker_cooldown_s,
        lane=lane,
    )


def build_gateway(
    config: Settings, sessions: sessionmaker[Session], lane: Lane = "money"
) -> StripeGateway:
    """A gateway on `config` whose calls share the budget and breaker of every process, its
    idempotency keys in this installation's namespace (read from `sessions`' database)."""
    guard = stripe_guard(config, lane)
    return StripeGateway(
        make_stripe_client(config, stripe_base(config), guard),
        guard,
        return_url=config.stripe_return_url,
        key_namespace=key_namespace(sessions),
    )
