"""What the app's views share: settings, sessions, Redis, the broker the views enqueue on, the
Stripe gateway (built lazily)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from dramatiq.broker import Broker
from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from payments.gateway import StripeGateway


@dataclass
class AppState:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: redis.Redis
    broker: Broker
    gateway_factory: Callable[[], StripeGateway]
    rate_limit: tuple[int, int]  # requests per window, window seconds
    key_cache_ttl_s: float
    webhook_tolerance_s: int
    onboarding_return_url: str
    _gateway: StripeGateway | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    extras: dict[str, Any] = field(default_factory=dict)

    def gateway(self) -> StripeGateway:
        with self._lock:
            if self._gateway is None:
                self._gateway = self.gateway_factory()
            return self._gateway


def state() -> AppState:
    return current_app.extensions["midway"]
